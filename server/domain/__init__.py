"""The practice platform's domain: plain records, rules and the ports services depend on."""
