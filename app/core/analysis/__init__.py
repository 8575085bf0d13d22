"""Per-photo analysis stages. Each stage is a pure function of the decoded working image."""
