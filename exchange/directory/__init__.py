"""The public directory of verified authorities (served at /authorities/ by the authorities
blueprint, whose endpoints the rest of the site links to) and the public items of one
authority, for its profile page."""
