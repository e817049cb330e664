"""The env's shared load balancer."""
