# VPC over two availability zones: public subnets for the load balancer and the
# NAT gateways, private subnets for the instances and the database, and the
# three security groups that tie NLB -> instances -> RDS together.

# Every zone of the region, whatever its state: only to check the names
# passed in. The zones themselves are an input: a list sliced from the
# currently "available" ones would shift while one zone is impaired, and the
# next apply would move subnets (and everything in them) to another zone.
data "aws_availability_zones" "all" {
  all_availability_zones = true
}

data "aws_region" "current" {}

locals {
  azs = var.availability_zones

  # Every subnet is a /20: the first two are public, the next two private.
  subnet_newbits  = 20 - tonumber(split("/", var.vpc_cidr)[1])
  public_subnets  = { for i, az in local.azs : az => cidrsubnet(var.vpc_cidr, local.subnet_newbits, i) }
  private_subnets = { for i, az in local.azs : az => cidrsubnet(var.vpc_cidr, local.subnet_newbits, i + 2) }

  # The AZs that get a NAT gateway; private route tables use their own AZ's
  # gateway, or the single one.
  nat_azs = var.single_nat_gateway ? [local.azs[0]] : local.azs
}

resource "aws_vpc" "this" {
  lifecycle {
    precondition {
      condition     = alltrue([for az in var.availability_zones : contains(data.aws_availability_zones.all.names, az)])
      error_message = "availability_zones must be zones of the provider's region."
    }
  }

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = var.name }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = { Name = var.name }
}

resource "aws_subnet" "public" {
  for_each = local.public_subnets

  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = each.value

  tags = { Name = "${var.name}-public-${each.key}", Tier = "public" }
}

resource "aws_subnet" "private" {
  for_each = local.private_subnets

  vpc_id            = aws_vpc.this.id
  availability_zone = each.key
  cidr_block        = each.value

  tags = { Name = "${var.name}-private-${each.key}", Tier = "private" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name}-public" }
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  for_each = aws_subnet.public

  subnet_id      = each.value.id
  route_table_id = aws_route_table.public.id
}

resource "aws_eip" "nat" {
  for_each = toset(local.nat_azs)

  domain = "vpc"

  tags = { Name = "${var.name}-nat-${each.key}" }
}

resource "aws_nat_gateway" "this" {
  for_each = toset(local.nat_azs)

  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.public[each.key].id

  tags = { Name = "${var.name}-${each.key}" }

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route_table" "private" {
  for_each = aws_subnet.private

  vpc_id = aws_vpc.this.id

  tags = { Name = "${var.name}-private-${each.key}" }
}

resource "aws_route" "private_nat" {
  for_each = aws_route_table.private

  route_table_id         = each.value.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = var.single_nat_gateway ? aws_nat_gateway.this[local.azs[0]].id : aws_nat_gateway.this[each.key].id
}

resource "aws_route_table_association" "private" {
  for_each = aws_subnet.private

  subnet_id      = each.value.id
  route_table_id = aws_route_table.private[each.key].id
}

# Release and frontend downloads from S3 stay inside AWS (no NAT data charges).
resource "aws_vpc_endpoint" "s3" {
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${data.aws_region.current.region}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [for rt in aws_route_table.private : rt.id]

  tags = { Name = "${var.name}-s3" }
}

# --- Security groups -------------------------------------------------------
# Internet -> NLB (80, 443) -> instances (80, 443) -> RDS (5432). The NLB has
# its own security group so the instances can reference it: with client IP
# preservation the packets carry the client's address, not the NLB's.

resource "aws_security_group" "nlb" {
  name        = "${var.name}-nlb"
  description = "EasySKS network load balancer"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${var.name}-nlb" }
}

resource "aws_security_group" "app" {
  name        = "${var.name}-app"
  description = "EasySKS application hosts (nginx + FastCGI workers)"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${var.name}-app" }
}

resource "aws_security_group" "db" {
  name        = "${var.name}-db"
  description = "EasySKS PostgreSQL (RDS)"
  vpc_id      = aws_vpc.this.id

  tags = { Name = "${var.name}-db" }
}

locals {
  web_ports = toset(["80", "443"])

  nlb_ingress = { for pair in setproduct(var.ingress_cidrs, local.web_ports) : "${pair[0]}-${pair[1]}" => { cidr = pair[0], port = tonumber(pair[1]) } }
}

resource "aws_vpc_security_group_ingress_rule" "nlb_from_clients" {
  for_each = local.nlb_ingress

  security_group_id = aws_security_group.nlb.id
  description       = "Clients to the load balancer"
  cidr_ipv4         = each.value.cidr
  ip_protocol       = "tcp"
  from_port         = each.value.port
  to_port           = each.value.port
}

resource "aws_vpc_security_group_egress_rule" "nlb_to_app" {
  for_each = local.web_ports

  security_group_id            = aws_security_group.nlb.id
  description                  = "Load balancer to the hosts (traffic and health checks)"
  referenced_security_group_id = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = tonumber(each.key)
  to_port                      = tonumber(each.key)
}

resource "aws_vpc_security_group_ingress_rule" "app_from_nlb" {
  for_each = local.web_ports

  security_group_id            = aws_security_group.app.id
  description                  = "Load balancer to nginx"
  referenced_security_group_id = aws_security_group.nlb.id
  ip_protocol                  = "tcp"
  from_port                    = tonumber(each.key)
  to_port                      = tonumber(each.key)
}

# Outbound HTTPS: Cognito JWKS, Stripe, OpenAI and the AWS APIs (via NAT);
# HTTP: Debian package mirrors during bootstrap.
resource "aws_vpc_security_group_egress_rule" "app_to_internet" {
  for_each = local.web_ports

  security_group_id = aws_security_group.app.id
  description       = "Hosts to the internet via NAT"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.key)
  to_port           = tonumber(each.key)
}

resource "aws_vpc_security_group_egress_rule" "app_to_db" {
  security_group_id            = aws_security_group.app.id
  description                  = "Hosts to PostgreSQL"
  referenced_security_group_id = aws_security_group.db.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

resource "aws_vpc_security_group_ingress_rule" "db_from_app" {
  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from the application hosts only"
  referenced_security_group_id = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}
