"""Who is on the site: a visitor's signed cookie, a resident's session, the form tokens
bound to either, and who may open which page."""
