"""Local stand-ins for Arrivy, CallRail, the legacy 4D ERP and the Genius database."""
