# The dedicated infrastructure of one tenant on Azure: a resource group, an AKS cluster with a
# system node pool sized by tier, and the tenant's database on the platform's PostgreSQL flexible
# server. Needs the hashicorp/azurerm provider (not installable on the offline build machine).
terraform {
  required_providers {
    azurerm = { source = "hashicorp/azurerm" }
  }
}

variable "tenant_id" { type = string }
variable "tenant_slug" { type = string }
variable "tier" { type = string }
variable "region" { type = string }
variable "node_count" { type = number }
variable "node_size" { type = string }
variable "postgres_server_id" {
  type        = string
  default     = null
  description = "the platform's PostgreSQL flexible server; null: no tenant database here"
}

locals {
  cluster_name = "aks-${var.tenant_slug}"
  tags         = { "matih.ai/tenant-id" = var.tenant_id, "matih.ai/tier" = var.tier, "managed-by" = "matih-provisioner" }
}

resource "azurerm_resource_group" "tenant" {
  name     = "rg-matih-${var.tenant_slug}"
  location = var.region
  tags     = local.tags
}

resource "azurerm_kubernetes_cluster" "tenant" {
  name                = local.cluster_name
  location            = azurerm_resource_group.tenant.location
  resource_group_name = azurerm_resource_group.tenant.name
  dns_prefix          = var.tenant_slug
  tags                = local.tags

  default_node_pool {
    name       = "system"
    node_count = var.node_count
    vm_size    = var.node_size
  }
  identity {
    type = "SystemAssigned"
  }
  oidc_issuer_enabled       = true
  workload_identity_enabled = true
}

resource "azurerm_postgresql_flexible_server_database" "tenant" {
  count     = var.postgres_server_id == null ? 0 : 1
  name      = "tenant_${replace(var.tenant_slug, "-", "_")}"
  server_id = var.postgres_server_id
}

output "cluster_name" { value = azurerm_kubernetes_cluster.tenant.name }
output "cluster_region" { value = azurerm_kubernetes_cluster.tenant.location }
output "cluster_endpoint" { value = azurerm_kubernetes_cluster.tenant.kube_config[0].host }
output "node_count" { value = var.node_count }
output "database_name" { value = "tenant_${replace(var.tenant_slug, "-", "_")}" }
output "kubeconfig" {
  sensitive = true
  value     = azurerm_kubernetes_cluster.tenant.kube_config_raw
}
