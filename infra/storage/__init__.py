"""The storage stack: durable volumes (Amazon EFS) that service stacks mount."""
