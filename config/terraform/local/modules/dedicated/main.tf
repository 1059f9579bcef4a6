# The dedicated infrastructure of one tenant, on the local stack: the "cluster" is a GitOps folder
# of its own under var.local_root (what the dedicated cluster's Flux would sync), the tenant's
# data a database name on the stack's PostgreSQL. Built-in resources only (terraform_data).
variable "tenant_id" { type = string }
variable "tenant_slug" {
  type = string
  # The database the data plugin makes is t_<slug> ('-' -> '_'), hashed past PostgreSQL's 63
  # characters; the runner admits slugs of at most 40, so database_name below is never hashed.
  validation {
    condition     = length(var.tenant_slug) <= 61
    error_message = "tenant_slug longer than 61 characters: the data plugin's database name t_<slug> would be hashed and the database_name output would be wrong."
  }
}
variable "tier" { type = string }
variable "region" { type = string }
variable "node_count" { type = number }
variable "node_size" { type = string }
variable "local_root" { type = string }
variable "cluster_token" {
  type      = string
  sensitive = true
}
variable "cache_server_url" {
  description = "redis:// URL of the admin login on the Redis given to the tenant (\"\": the runner's data.dedicated.redis_url)"
  type        = string
  sensitive   = true
  default     = ""
}
variable "cache_password_file" {
  description = "file holding the password of that login"
  type        = string
  default     = ""
}
variable "database_server_url" {
  description = "admin URL of the PostgreSQL server given to the tenant (\"\": the runner's data.dedicated.database_url)"
  type        = string
  sensitive   = true
  default     = ""
}
variable "messaging_server_url" {
  description = "nats:// URL of the NATS server (JetStream) given to the tenant (\"\": the runner's data.dedicated.nats_url)"
  type        = string
  sensitive   = true
  default     = ""
}
variable "vector_server_url" {
  description = "URL of the Chroma server given to the tenant (\"\": the runner's vector.chroma_url)"
  type        = string
  default     = ""
}

locals {
  cluster_name = "aks-${var.tenant_slug}"
  gitops_path  = "${var.local_root}/clusters/${var.tenant_slug}"
  # The Redis admin login's password goes into the URL (redis://user:password@host:port), so the
  # tenant's cache credentials travel through the vault as the production module's do.
  cache_url_parts = try(regex("^(rediss?://[^:@/]+)@(.+)$", var.cache_server_url), null)
  cache_url = var.cache_password_file == "" || local.cache_url_parts == null ? var.cache_server_url : format(
  "%s:%s@%s", local.cache_url_parts[0], trimspace(file(var.cache_password_file)), local.cache_url_parts[1])
}

resource "terraform_data" "cluster" {
  input = {
    name       = local.cluster_name
    region     = var.region
    tier       = var.tier
    node_count = var.node_count
    node_size  = var.node_size
    path       = local.gitops_path
  }
  provisioner "local-exec" {
    command = "mkdir -p '${self.input.path}' && printf 'cluster: %s\\nregion: %s\\nnodes: %s\\n' '${self.input.name}' '${self.input.region}' '${self.input.node_count}' > '${self.input.path}/cluster.yaml'"
  }
  # The source the dedicated cluster's Flux would sync: a bare repository the runner pushes to.
  provisioner "local-exec" {
    command = "git init -q --bare '${self.input.path}/flux-source.git'"
  }
  provisioner "local-exec" {
    when    = destroy
    command = "rm -rf '${self.input.path}'"
  }
}

resource "terraform_data" "database" {
  input = {
    name   = "t_${replace(var.tenant_slug, "-", "_")}" # the data plugin's TenantSqlName (step 21)
    region = var.region
  }
}

resource "terraform_data" "cluster_credentials" {
  # Replaced (a new credential) whenever the cluster is.
  triggers_replace = [terraform_data.cluster.id]
  input            = sha256(var.cluster_token)
}

output "cluster_name" { value = local.cluster_name }
output "cluster_region" { value = var.region }
output "cluster_endpoint" { value = "file://${local.gitops_path}" }
output "node_count" { value = var.node_count }
output "database_name" { value = terraform_data.database.output.name }
# The tenant's own [targets] (phases 2-5 use them instead of the shared ones; step 54 records
# them as outputs target.<key>). Secret ones go through the vault, never through outputs. The
# production module (../../azurerm/modules/dedicated) outputs the same keys and more
# (tests/steps/terraform/module_targets_test.cc compares them).
output "targets" {
  value = { for k, v in {
    "gitops.repository" = "${local.gitops_path}/repo"
    "gitops.remote"     = "${local.gitops_path}/flux-source.git"
    "vector.chroma_url" = var.vector_server_url
  } : k => v if v != "" }
}
output "target_secrets" {
  sensitive = true
  value = { for k, v in {
    "data.dedicated.database_url" = var.database_server_url
    "data.dedicated.redis_url"    = local.cache_url
    "data.dedicated.nats_url"     = var.messaging_server_url
  } : k => v if v != "" }
}
output "kubeconfig" {
  sensitive = true
  value = yamlencode({
    apiVersion        = "v1"
    kind              = "Config"
    "current-context" = local.cluster_name
    clusters          = [{ name = local.cluster_name, cluster = { server = "file://${local.gitops_path}" } }]
    users             = [{ name = "matih-provisioner", user = { token = var.cluster_token } }]
    contexts          = [{ name = local.cluster_name, context = { cluster = local.cluster_name, user = "matih-provisioner" } }]
  })
}
