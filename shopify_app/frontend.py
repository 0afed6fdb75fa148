"""Placeholder blueprint, replaced by its owner."""

from flask import Blueprint

bp = Blueprint("frontend", __name__)
