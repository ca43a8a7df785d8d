"""Assignment's pure rules (rules.md section 7) over frozen values: who is chosen (`assignment`), how an
existing assignment changes (`reassignment`), the facts events bring (`facts`) and what is stored
about customers and service persons (`records`). No framework, no I/O, no clock."""
