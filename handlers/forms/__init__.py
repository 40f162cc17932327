"""The shared form engine: wizard runner, form data, records, validators and their texts (registration and surveys)."""
