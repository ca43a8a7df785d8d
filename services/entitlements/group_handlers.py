"""Entitlements' group-program handlers: a level decided (tiering), an account manager changed
(assignment). Each takes the client's lock (held already when `prepare` locked the batch), ignores
a stale revision (`mark_stale`) and saves the client; a change of level is kept in the level history
(movements per quarter, retention). They publish nothing and never commit."""

from services.entitlements import mapping
from services.entitlements.domain.group_clients import GroupClient, with_level, with_manager
from services.entitlements.repositories import EntitlementsUnitOfWork
from shared.events.group import AccountManagerChanged, GroupLevelDecided
from shared.events.internal import InternalEvent


async def _locked_client(uow: EntitlementsUnitOfWork, client_id: str) -> GroupClient:
    await uow.group_clients.lock([client_id])
    return await uow.group_clients.get(client_id) or GroupClient(client_id=client_id)


async def on_group_level_decided(event: GroupLevelDecided, uow: EntitlementsUnitOfWork) -> list[InternalEvent]:
    change = mapping.level_change_of(event)
    client = await _locked_client(uow, change.client_id)
    changed = with_level(client, change)
    if changed is None:
        uow.mark_stale()
        return []
    uow.group_clients.save_client(changed)
    if changed.level != client.level or client.level_revision == 0:
        uow.group_clients.save_move(
            client_id=changed.client_id, level=changed.level, previous=client.level, branch=changed.branch,
            on=change.effective_at,
        )
    return []


async def on_account_manager_changed(event: AccountManagerChanged, uow: EntitlementsUnitOfWork) -> list[InternalEvent]:
    change = mapping.manager_change_of(event)
    client = await _locked_client(uow, change.client_id)
    changed = with_manager(client, change)
    if changed is None:
        uow.mark_stale()
        return []
    uow.group_clients.save_client(changed)
    return []
