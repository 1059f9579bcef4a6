# Root module of step 53 for the enterprise tier (local flavour): the tenant's AI endpoints, state in
# PostgreSQL (pg backend), one workspace per tenant.
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
variable "ai_api_key" {
  type      = string
  sensitive = true
}

module "ai" {
  source      = "../../modules/ai-services"
  tenant_slug = var.tenant_slug
  region      = var.region
  ai_api_key  = var.ai_api_key
  models      = { "gpt-4o" = 60, "gpt-4o-mini" = 120, "text-embedding-3-large" = 120 }
}

output "ai_account_name" { value = module.ai.ai_account_name }
output "ai_endpoint" { value = module.ai.ai_endpoint }
output "ai_deployments" { value = module.ai.ai_deployments }
output "ai_api_key" {
  sensitive = true
  value     = module.ai.ai_api_key
}
