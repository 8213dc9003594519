"""Legal Research Support (法令調査支援): statutes, citations, search, verified answers."""
