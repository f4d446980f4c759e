# Hardship cases, funds and the annual report live here (see DESIGN.md, "The money path").
