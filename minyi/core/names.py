"""A reporter's name as lists show it: masked (王*, 欧阳**)."""


def mask_name(name: str) -> str:
    """The first character and a star for each of the rest (at least one), "" for ""."""
    return name[0] + "*" * max(1, len(name) - 1) if name else ""
