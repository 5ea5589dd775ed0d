"""The merged filesystem: layers applied as a container runtime applies them."""
