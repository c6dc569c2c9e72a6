"""Pure translation between SCIM resources and staff records, driven by the accepted attributes."""
