# Sizes of the enterprise tier (root module ../root.tf).
node_count = 6
node_size  = "large"
