"""What each command does, as plain functions the CLI and the tests call."""
