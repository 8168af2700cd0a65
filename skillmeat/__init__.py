"""SkillMeat: a Git-native manager for Claude Code artifacts."""

__version__ = "0.3.0"
