# The dedicated infrastructure of one tenant on Azure: a resource group holding an AKS cluster
# (system node pool sized by tier, Flux syncing the tenant's GitOps repository), a PostgreSQL
# flexible server, an Azure Cache for Redis, a storage account and a Key Vault, all the tenant's
# own. Its outputs `targets` and `target_secrets` carry the same [targets] keys as the local
# module's (../../../local/modules/dedicated; tests/steps/terraform/module_targets_test.cc
# compares them) plus the production-only ones. Needs the hashicorp/azurerm provider (not
# installable on the offline build machine).
terraform {
  required_providers {
    azurerm = { source = "hashicorp/azurerm" }
  }
}

variable "tenant_id" { type = string }
variable "tenant_slug" { type = string }
variable "tier" { type = string }
variable "region" {
  description = "Azure location of the tenant's resources (e.g. westeurope)"
  type        = string
}
variable "node_count" { type = number }
variable "node_size" { type = string }
variable "database_sku" { type = string }
variable "database_storage_mb" { type = number }
variable "cache_sku" {
  description = "Azure Cache for Redis: sku_name, family and capacity"
  type        = object({ name = string, family = string, capacity = number })
}
variable "database_admin_password" {
  description = "admin password of the tenant's PostgreSQL flexible server (generated once by the plugin, kept in its vault)"
  type        = string
  sensitive   = true
}
variable "gitops_base_url" {
  description = "the platform's Git server: the tenant's repository is <gitops_base_url>/<slug>.git"
  type        = string
}
variable "gitops_work_root" {
  description = "folder on the runner host of the tenant GitOps working copies"
  type        = string
}
variable "runner_ip_ranges" {
  description = "name -> first and last IPv4 address the provisioner reaches the tenant's database and cache from"
  type        = map(object({ start = string, end = string }))
  default     = {}
}
variable "secrets_officer_ids" {
  description = "object ids given Key Vault Secrets Officer on the tenant's vault (besides the identity running Terraform)"
  type        = set(string)
  default     = []
}
variable "messaging_server_url" {
  description = "nats:// URL of the NATS server (JetStream) deployed for the tenant, if any (\"\": the runner's data.dedicated.nats_url)"
  type        = string
  sensitive   = true
  default     = ""
}
variable "vector_server_url" {
  description = "URL of the Chroma server deployed for the tenant, if any (\"\": the runner's vector.chroma_url)"
  type        = string
  default     = ""
}

data "azurerm_client_config" "current" {}

locals {
  cluster_name = "aks-${var.tenant_slug}"
  # Globally unique names: storage accounts 3-24 lowercase letters and digits, vaults 3-24.
  unique          = substr(sha256(var.tenant_id), 0, 12)
  storage_account = "stmatih${local.unique}"
  gitops_remote   = "${trimsuffix(var.gitops_base_url, "/")}/${var.tenant_slug}.git"
  database_admin  = "matihadmin"
  tags            = { "matih.ai/tenant-id" = var.tenant_id, "matih.ai/tier" = var.tier, "managed-by" = "matih-provisioner" }
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

# The cluster's Flux syncs the tenant's GitOps repository, where phases 2 and 5 deliver.
resource "azurerm_kubernetes_cluster_extension" "flux" {
  name           = "flux"
  cluster_id     = azurerm_kubernetes_cluster.tenant.id
  extension_type = "microsoft.flux"
}

resource "azurerm_kubernetes_flux_configuration" "tenant" {
  name       = "matih-tenant"
  cluster_id = azurerm_kubernetes_cluster.tenant.id
  namespace  = "flux-system"
  git_repository {
    url             = local.gitops_remote
    reference_type  = "branch"
    reference_value = "main"
  }
  kustomizations {
    name = "tenant"
  }
  depends_on = [azurerm_kubernetes_cluster_extension.flux]
}

resource "azurerm_postgresql_flexible_server" "tenant" {
  name                          = "psql-matih-${var.tenant_slug}"
  resource_group_name           = azurerm_resource_group.tenant.name
  location                      = azurerm_resource_group.tenant.location
  version                       = "15"
  sku_name                      = var.database_sku
  storage_mb                    = var.database_storage_mb
  administrator_login           = local.database_admin
  administrator_password        = var.database_admin_password
  public_network_access_enabled = true
  tags                          = local.tags
  lifecycle {
    ignore_changes = [zone]
  }
}

# Plain RESP on 6379: the data plugin's Redis client speaks no TLS; reach it over the platform's
# private network only.
resource "azurerm_redis_cache" "tenant" {
  name                 = "redis-matih-${var.tenant_slug}"
  location             = azurerm_resource_group.tenant.location
  resource_group_name  = azurerm_resource_group.tenant.name
  sku_name             = var.cache_sku.name
  family               = var.cache_sku.family
  capacity             = var.cache_sku.capacity
  non_ssl_port_enabled = true
  minimum_tls_version  = "1.2"
  tags                 = local.tags
}

resource "azurerm_postgresql_flexible_server_firewall_rule" "runner" {
  for_each         = var.runner_ip_ranges
  name             = "matih-${each.key}"
  server_id        = azurerm_postgresql_flexible_server.tenant.id
  start_ip_address = each.value.start
  end_ip_address   = each.value.end
}

resource "azurerm_redis_firewall_rule" "runner" {
  for_each            = var.runner_ip_ranges
  name                = "matih_${replace(each.key, "-", "_")}"
  redis_cache_name    = azurerm_redis_cache.tenant.name
  resource_group_name = azurerm_resource_group.tenant.name
  start_ip            = each.value.start
  end_ip              = each.value.end
}

resource "azurerm_storage_account" "tenant" {
  name                     = local.storage_account
  resource_group_name      = azurerm_resource_group.tenant.name
  location                 = azurerm_resource_group.tenant.location
  account_tier             = "Standard"
  account_replication_type = "ZRS"
  min_tls_version          = "TLS1_2"
  tags                     = local.tags
}

resource "azurerm_key_vault" "tenant" {
  name                      = "kv-matih-${local.unique}"
  location                  = azurerm_resource_group.tenant.location
  resource_group_name       = azurerm_resource_group.tenant.name
  tenant_id                 = data.azurerm_client_config.current.tenant_id
  sku_name                  = "standard"
  enable_rbac_authorization = true
  purge_protection_enabled  = true
  tags                      = local.tags
}

# Step 17 (store-tenant-secrets) writes the tenant's secrets into its vault: the identity running
# Terraform (and any listed) may manage secrets there.
resource "azurerm_role_assignment" "secrets_officer" {
  for_each             = setunion([data.azurerm_client_config.current.object_id], var.secrets_officer_ids)
  scope                = azurerm_key_vault.tenant.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = each.value
}

# The API server's address from fqdn: kube_config is sensitive as a whole in the provider.
output "cluster_name" { value = azurerm_kubernetes_cluster.tenant.name }
output "cluster_region" { value = azurerm_kubernetes_cluster.tenant.location }
output "cluster_endpoint" { value = "https://${azurerm_kubernetes_cluster.tenant.fqdn}:443" }
output "node_count" { value = var.node_count }
output "database_name" { value = "t_${replace(var.tenant_slug, "-", "_")}" }
# The tenant's own [targets] (phases 2-5 use them instead of the shared ones; step 54 records
# them as outputs target.<key>). Secret ones go through the vault, never through outputs.
output "targets" {
  value = { for k, v in {
    "gitops.repository"            = "${var.gitops_work_root}/${var.tenant_slug}"
    "gitops.remote"                = local.gitops_remote
    "vector.chroma_url"            = var.vector_server_url
    "kubernetes.api_url"           = "https://${azurerm_kubernetes_cluster.tenant.fqdn}:443"
    "storage.blob_endpoint"        = trimsuffix(azurerm_storage_account.tenant.primary_blob_endpoint, "/")
    "storage.dedicated_accounts"   = azurerm_storage_account.tenant.name
    "vault.backend"                = "azure-key-vault"
    "vault.azure_url"              = azurerm_key_vault.tenant.vault_uri
    "network.azure_resource_group" = azurerm_resource_group.tenant.name
  } : k => v if v != "" }
}
output "target_secrets" {
  sensitive = true
  value = { for k, v in {
    "data.dedicated.database_url" = "postgresql://${local.database_admin}:${urlencode(var.database_admin_password)}@${azurerm_postgresql_flexible_server.tenant.fqdn}:5432/postgres?sslmode=require"
    "data.dedicated.redis_url"    = "redis://:${azurerm_redis_cache.tenant.primary_access_key}@${azurerm_redis_cache.tenant.hostname}:${azurerm_redis_cache.tenant.port}"
    "data.dedicated.nats_url"     = var.messaging_server_url
    "storage.account_keys"        = "${azurerm_storage_account.tenant.name}:${azurerm_storage_account.tenant.primary_access_key}"
  } : k => v if v != "" }
}
output "kubeconfig" {
  sensitive = true
  value     = azurerm_kubernetes_cluster.tenant.kube_config_raw
}
