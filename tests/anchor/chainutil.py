"""Sending contract transactions from anvil's development accounts, with refusals named."""

from __future__ import annotations

from anchor.account import development_account
from anchor.contract import AnchorContract, _refusals


def transact(contract: AnchorContract, function: str, *args: object, sender: int = 0) -> dict:
    """Call `function(*args)` from development account `sender` and wait for the receipt.

    A refusal raises AnchorRefused whose details name the contract's custom error.
    """
    account = development_account(sender)
    chain = contract.chain
    call = getattr(contract._c.functions, function)(*args)
    with _refusals(function):
        gas = call.estimate_gas({"from": account.address})
    fees = chain.fees()
    tx = call.build_transaction({"from": account.address, "nonce": chain.nonce(account.address), "gas": gas * 2,
                                 "maxFeePerGas": fees.max_fee, "maxPriorityFeePerGas": fees.priority_fee,
                                 "chainId": chain.chain_id})
    signed = account.sign_transaction(tx)
    chain.send_raw(bytes(signed.raw_transaction))
    receipt = chain.w3.eth.wait_for_transaction_receipt(signed.hash, timeout=30)
    assert receipt["status"] == 1
    return receipt
