# Root module of step 53 (azurerm flavour), one for every tier: <tier>/main.tf links here and
# <tier>/tier.auto.tfvars sets the tier's models. The tenant's AI endpoints, state in PostgreSQL
# (pg backend), one workspace per tenant.
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
variable "models" {
  description = "the tier's model deployments, name -> capacity (tier.auto.tfvars)"
  type        = map(number)
}
variable "ai_api_key" {
  type      = string
  sensitive = true
}

variable "azure_locations" {
  description = "tenant region (the spec's) -> Azure location; a region not listed is taken as a location"
  type        = map(string)
  default     = { "eu-west" = "westeurope", "us-east" = "eastus" }
}

provider "azurerm" {
  features {}
}

module "ai" {
  source      = "../../modules/ai-services"
  tenant_slug = var.tenant_slug
  region      = lookup(var.azure_locations, var.region, var.region)
  models      = var.models
}

output "ai_account_name" { value = module.ai.ai_account_name }
output "ai_endpoint" { value = module.ai.ai_endpoint }
output "ai_deployments" { value = module.ai.ai_deployments }
output "ai_api_key" {
  sensitive = true
  value     = module.ai.ai_api_key
}
