"""Placeholder blueprint, replaced by its owner."""

from flask import Blueprint

bp = Blueprint("api", __name__)
