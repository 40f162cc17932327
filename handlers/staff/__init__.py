"""What Alliance staff do in the chat: announcements, roles, survey results, the review queue, console sign-in."""
