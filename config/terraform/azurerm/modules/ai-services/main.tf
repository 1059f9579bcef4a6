# The tenant's AI endpoints on Azure: an Azure OpenAI account and one deployment per wanted model.
# Needs the hashicorp/azurerm provider (not installable on the offline build machine).
terraform {
  required_providers {
    azurerm = { source = "hashicorp/azurerm" }
  }
}

variable "tenant_slug" { type = string }
variable "region" { type = string }
variable "models" { type = map(number) } # model name -> capacity (thousands of tokens a minute)

resource "azurerm_resource_group" "ai" {
  name     = "rg-matih-${var.tenant_slug}-ai"
  location = var.region
}

resource "azurerm_cognitive_account" "openai" {
  name                  = "oai-${var.tenant_slug}"
  location              = azurerm_resource_group.ai.location
  resource_group_name   = azurerm_resource_group.ai.name
  kind                  = "OpenAI"
  sku_name              = "S0"
  custom_subdomain_name = "oai-${var.tenant_slug}"
}

resource "azurerm_cognitive_deployment" "model" {
  for_each             = var.models
  name                 = each.key
  cognitive_account_id = azurerm_cognitive_account.openai.id
  model {
    format = "OpenAI"
    name   = each.key
  }
  sku {
    name     = "Standard"
    capacity = each.value
  }
}

output "ai_account_name" { value = azurerm_cognitive_account.openai.name }
output "ai_endpoint" { value = azurerm_cognitive_account.openai.endpoint }
output "ai_deployments" { value = join(",", sort(keys(azurerm_cognitive_deployment.model))) }
output "ai_api_key" {
  sensitive = true
  value     = azurerm_cognitive_account.openai.primary_access_key
}
