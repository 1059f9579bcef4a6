# Root module of steps 51/52 (azurerm flavour), one for every tier: <tier>/main.tf links here and
# <tier>/tier.auto.tfvars sets the tier's sizes (Terraform reads it from the working folder by
# itself). State in PostgreSQL (pg backend; the plugin sets PG_CONN_STR and PG_SCHEMA_NAME), one
# workspace per tenant. The platform's own values (gitops_base_url; runner_ip_ranges,
# secrets_officer_ids and azure_locations when the defaults do not fit) go into a
# platform.auto.tfvars in each tier folder, read the same way.
terraform {
  required_version = ">= 1.6"
  backend "pg" {}
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.0"
    }
  }
}

variable "tenant_id" { type = string }
variable "tenant_slug" { type = string }
variable "tier" { type = string }
variable "region" { type = string }
variable "services" { type = list(string) }
variable "local_root" { type = string }
# The tier's sizes (tier.auto.tfvars).
variable "node_count" { type = number }
variable "node_size" { type = string }
variable "database_sku" { type = string }
variable "database_storage_mb" { type = number }
variable "cache_sku" {
  type = object({ name = string, family = string, capacity = number })
}
variable "cluster_token" {
  type      = string
  sensitive = true
}
variable "database_admin_password" {
  type      = string
  sensitive = true
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
variable "gitops_base_url" {
  description = "the platform's Git server holding one repository per dedicated tenant (<url>/<slug>.git)"
  type        = string
}
variable "runner_ip_ranges" {
  description = "name -> first and last IPv4 address the provisioner reaches tenants' databases and caches from"
  type        = map(object({ start = string, end = string }))
  default     = {}
}
variable "secrets_officer_ids" {
  description = "object ids that manage secrets in every tenant's Key Vault (the vault plugin's identity)"
  type        = set(string)
  default     = []
}
variable "azure_locations" {
  description = "tenant region (the spec's) -> Azure location; a region not listed is taken as a location"
  type        = map(string)
  default     = { "eu-west" = "westeurope", "us-east" = "eastus" }
}

provider "azurerm" {
  features {}
}

module "dedicated" {
  source                  = "../../modules/dedicated"
  tenant_id               = var.tenant_id
  tenant_slug             = var.tenant_slug
  tier                    = var.tier
  region                  = lookup(var.azure_locations, var.region, var.region)
  node_count              = var.node_count
  node_size               = var.node_size
  database_sku            = var.database_sku
  database_storage_mb     = var.database_storage_mb
  cache_sku               = var.cache_sku
  database_admin_password = var.database_admin_password
  gitops_base_url         = var.gitops_base_url
  gitops_work_root        = "${var.local_root}/gitops"
  messaging_server_url    = var.messaging_server_url
  vector_server_url       = var.vector_server_url
  runner_ip_ranges        = var.runner_ip_ranges
  secrets_officer_ids     = var.secrets_officer_ids
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
