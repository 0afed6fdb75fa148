"""Placeholder blueprint, replaced by its owner."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__)
