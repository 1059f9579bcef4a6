# Models of the professional tier (root module ../root.tf).
models = { "gpt-4o-mini" = 30 }
