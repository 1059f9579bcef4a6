# Sizes of the professional tier (root module ../root.tf).
node_count          = 3
node_size           = "Standard_D4s_v5"
database_sku        = "GP_Standard_D2ds_v5"
database_storage_mb = 65536
cache_sku           = { name = "Standard", family = "C", capacity = 1 }
