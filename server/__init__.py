"""scimlab server: the SCIM 2.0 provisioning service of the practice platform."""
