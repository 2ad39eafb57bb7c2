import os

from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient


def init():
    global secret
    client = SecretClient(os.environ["KEY_VAULT_URL"], ManagedIdentityCredential())
    secret = client.get_secret("scoring-salt").value


def run(data):
    return {"salted": bool(secret)}
