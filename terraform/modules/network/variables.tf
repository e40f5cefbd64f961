variable "name" {
  description = "Name prefix for every network resource, e.g. easysks-staging."
  type        = string
}

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC; split into /20 public and private subnets in two availability zones."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 18
    error_message = "vpc_cidr must be a valid IPv4 CIDR of /18 or larger (four /20 subnets are carved from it)."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway shared by both AZs (cheaper, staging) instead of one per AZ (survives an AZ outage, prod)."
  type        = bool
}

variable "ingress_cidrs" {
  description = "Client CIDRs allowed to reach the load balancer on 80 and 443."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "availability_zones" {
  description = "The two availability zones of the subnets, by name (e.g. eu-central-1a, eu-central-1b). Fixed on purpose: changing them replaces every subnet."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) == 2 && length(distinct(var.availability_zones)) == 2
    error_message = "availability_zones must name two different zones."
  }
}
