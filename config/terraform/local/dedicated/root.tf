# Root module of steps 51/52 (local flavour), one for every tier: <tier>/main.tf links here and
# <tier>/tier.auto.tfvars sets the tier's sizes (Terraform reads it from the working folder by
# itself). State in PostgreSQL (pg backend; the plugin sets PG_CONN_STR and PG_SCHEMA_NAME), one
# workspace per tenant.
terraform {
  required_version = ">= 1.6"
  backend "pg" {}
}

variable "tenant_id" { type = string }
variable "tenant_slug" { type = string }
variable "tier" { type = string }
variable "region" { type = string }
variable "services" { type = list(string) }
variable "local_root" { type = string }
variable "node_count" {
  description = "the tier's node count (tier.auto.tfvars)"
  type        = number
}
variable "node_size" {
  description = "the tier's node size (tier.auto.tfvars)"
  type        = string
}
variable "cluster_token" {
  type      = string
  sensitive = true
}
variable "cache_server_url" {
  type      = string
  sensitive = true
  default   = ""
}
variable "cache_password_file" {
  type    = string
  default = ""
}
variable "database_server_url" {
  type      = string
  sensitive = true
  default   = ""
}
variable "messaging_server_url" {
  type      = string
  sensitive = true
  default   = ""
}
variable "vector_server_url" {
  type    = string
  default = ""
}

module "dedicated" {
  source               = "../../modules/dedicated"
  tenant_id            = var.tenant_id
  tenant_slug          = var.tenant_slug
  tier                 = var.tier
  region               = var.region
  local_root           = var.local_root
  cluster_token        = var.cluster_token
  database_server_url  = var.database_server_url
  cache_server_url     = var.cache_server_url
  cache_password_file  = var.cache_password_file
  messaging_server_url = var.messaging_server_url
  vector_server_url    = var.vector_server_url
  node_count           = var.node_count
  node_size            = var.node_size
}

output "cluster_name" { value = module.dedicated.cluster_name }
output "cluster_region" { value = module.dedicated.cluster_region }
output "cluster_endpoint" { value = module.dedicated.cluster_endpoint }
output "node_count" { value = module.dedicated.node_count }
output "database_name" { value = module.dedicated.database_name }
output "targets" { value = module.dedicated.targets }
output "target_secrets" {
  sensitive = true
  value     = module.dedicated.target_secrets
}
output "kubeconfig" {
  sensitive = true
  value     = module.dedicated.kubeconfig
}
