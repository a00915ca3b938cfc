"""Server-side forms: each parses a submitted form, checks it and keeps the values
and translated messages needed to show it again. Forms hold no SQL; checks that need
the database are made by the node services the handlers call."""
