"""Rule files (package data): rules.yaml, policy.yaml, medical_necessity.csv."""
