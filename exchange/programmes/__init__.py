"""The programmes' public pages: what each programme is, its objectives, who takes part, what
has been published under it and how many partners it has connected."""
