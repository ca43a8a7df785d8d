"""`vip simulate`: a candidate ruleset over the whole book, without changing anything."""
