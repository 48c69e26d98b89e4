"""Pre-infusion rules, one module per clinical area; ``catalogue`` lists them all."""
