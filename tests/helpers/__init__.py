"""What the test files share: starting servers (`helpers.servers`)."""
