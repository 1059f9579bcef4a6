# Sizes of the enterprise tier (root module ../root.tf).
node_count          = 6
node_size           = "Standard_D8s_v5"
database_sku        = "GP_Standard_D4ds_v5"
database_storage_mb = 262144
cache_sku           = { name = "Premium", family = "P", capacity = 1 }
