# Sizes of the professional tier (root module ../root.tf).
node_count = 3
node_size  = "medium"
