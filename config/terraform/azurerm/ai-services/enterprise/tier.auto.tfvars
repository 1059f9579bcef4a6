# Models of the enterprise tier (root module ../root.tf).
models = { "gpt-4o" = 60, "gpt-4o-mini" = 120, "text-embedding-3-large" = 120 }
