from registry.domain.problems import Problem

__all__ = ["Problem"]
