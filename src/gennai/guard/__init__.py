"""The guard: may this data go where the request sends it? (Confidentiality Level 2 at most.)"""
