// Announcements page: refresh the progress numbers every few seconds while something is being sent.
(function () {
  var table = document.getElementById("progress");
  if (!table || table.dataset.live !== "yes") return;
  function update() {
    fetch("/admin/thong-bao/tien-do", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (rows) {
        var live = false;
        rows.forEach(function (row) {
          var tr = table.querySelector('[data-id="' + row.id + '"]');
          if (!tr) return;
          Object.keys(row.counts).forEach(function (key) {
            var cell = tr.querySelector('[data-field="' + key + '"]');
            if (cell) cell.textContent = row.counts[key];
          });
          var pending = tr.querySelector('[data-field="pending"]');
          if (pending) pending.textContent = row.pending;
          var status = tr.querySelector('[data-field="status"]');
          if (status) status.textContent = row.status_label;
          var bar = tr.querySelector("progress");
          if (bar) bar.value = row.total - row.pending;
          if (!row.done) live = true;
        });
        if (live) setTimeout(update, 3000);
      });
  }
  setTimeout(update, 3000);
})();
