"""The public web page: a lookup page and a contact form, rendered from the lookup core."""
