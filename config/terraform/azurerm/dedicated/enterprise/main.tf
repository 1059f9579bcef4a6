# Root module of steps 51/52 for the enterprise tier (azurerm flavour): state in PostgreSQL (pg backend; the
# plugin sets PG_CONN_STR and PG_SCHEMA_NAME), one workspace per tenant.
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
variable "cluster_token" {
  type      = string
  sensitive = true
}

provider "azurerm" {
  features {}
}

module "dedicated" {
  source      = "../../modules/dedicated"
  tenant_id   = var.tenant_id
  tenant_slug = var.tenant_slug
  tier        = var.tier
  region      = var.region
  node_count  = 6
  node_size   = "Standard_D8s_v5"
}

output "cluster_name" { value = module.dedicated.cluster_name }
output "cluster_region" { value = module.dedicated.cluster_region }
output "cluster_endpoint" { value = module.dedicated.cluster_endpoint }
output "node_count" { value = module.dedicated.node_count }
output "database_name" { value = module.dedicated.database_name }
output "kubeconfig" {
  sensitive = true
  value     = module.dedicated.kubeconfig
}
