output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "IPv4 CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets (load balancer, NAT gateways), one per AZ."
  value       = [for s in aws_subnet.public : s.id]
}

output "private_subnet_ids" {
  description = "Private subnets (instances, database), one per AZ."
  value       = [for s in aws_subnet.private : s.id]
}

output "nat_public_ips" {
  description = "Egress addresses of the hosts (for allow lists at third parties)."
  value       = [for eip in aws_eip.nat : eip.public_ip]
}

output "nlb_security_group_id" {
  description = "Security group of the network load balancer."
  value       = aws_security_group.nlb.id
}

output "app_security_group_id" {
  description = "Security group of the application hosts."
  value       = aws_security_group.app.id
}

output "db_security_group_id" {
  description = "Security group of the database."
  value       = aws_security_group.db.id
}
