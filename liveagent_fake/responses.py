"""Route handlers: read parameters, call the model, serialize (moto's `responses.py`).

Every handler takes `(account, request)` and returns the object that goes under `response`;
errors are raised as `ApiError`s and rendered by the server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from . import dataset as ds
from . import paging
from . import params as p
from .models import API_STATUSES, Account, ConversationFilter
from .reports import report

OK = {"status": "OK", "statuscode": 0}
APPLICATION_VERSION = "5.52.3.7"
GPF_VERSION = "1.3.76.0"  # RealWorld.status_extra_fields: the fake's own value
LATEST_UPDATE_AGE = 7 * ds.DAY


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: Mapping[str, str]
    args: Mapping[str, str]  # named groups of the route


# -- serializers -----------------------------------------------------------------------------
def _text(value: object) -> str:
    return str(value)


def _count(account: Account, value: int) -> int | str:
    """A count as the API writes it: text, or a JSON number with RealWorld.numeric_counts."""
    return value if account.real_world.numeric_counts else str(value)


def _tags_field(account: Account, conv: ds.Conversation) -> str | None:
    ids = account.tag_ids(conv)
    return None if not ids and account.real_world.null_tags else ",".join(ids)


def _priority(conv: ds.Conversation) -> str:
    """RealWorld.extra_fields: "1" (high) on every 7th conversation, else "0"."""
    return "1" if conv.index % 7 == 0 else "0"


def _message_format(channel: str) -> str:
    """RealWorld.extra_fields: "H" (html) on the email channel, else "T" (text)."""
    return "H" if channel == "E" else "T"


def conversation_row(account: Account, conv: ds.Conversation, detail: bool = False) -> dict:
    render = account.time.render
    department = account.entities.departments[conv.department]
    owner = account.customer(conv.owner)
    incoming, outgoing = account.group_counts(conv)
    row: dict[str, object] = {
        "conversationid": account.conversation_id(conv.index),
        "code": account.conversation_code(conv.index),
        "datecreated": render(conv.created),
        "datechanged": render(conv.changed),
        "datedue": render(conv.datedue),
        "departmentname": department.name,
        "departmentid": department.id,
        "status": conv.status,
        "ownername": owner.name,
        "owneremail": owner.email,
        "subject": conv.subject,
        "preview": conv.preview,
        "publicurlcode": account.public_code(conv.index),
        "tags": _tags_field(account, conv),
        "channel_type": conv.channel,
        "messagegroupsin": _count(account, incoming),
        "messagegroupsout": _count(account, outgoing),
        "cursor": None if detail else account.cursor(conv.index),
    }
    if not detail and account.real_world.no_cursor:
        del row["cursor"]
    if account.real_world.extra_fields:
        row["priority"] = _priority(conv)
    if detail:
        row["ownernote"] = conv.ownernote
        agent = None if conv.agent is None else account.entities.agents[conv.agent]
        row["assignedto"] = None if agent is None else agent.userid
        row["customfields"] = [{"code": c, "value": v} for c, v in conv.customfields]
    return row


def group_row(account: Account, group: ds.MessageGroup, channel: str) -> dict:
    render = account.time.render
    row: dict[str, object] = {
        "messagegroupid": account.codecs.group.encode(group.serial),
        "userid": group.userid,
        "rtype": group.rtype,
        "rstatus": group.rstatus,
        "datecreated": render(group.created),
        "datefinished": render(group.finished),
        "messages": [message_row(account, m, channel) for m in group.messages],
    }
    if account.real_world.groups_without_id:
        del row["messagegroupid"]
    if not group.messages and account.real_world.group_without_messages:
        del row["messages"]
    return row


def message_row(account: Account, message: ds.Message, channel: str) -> dict:
    row = {
        "messageid": account.codecs.message.encode(message.serial),
        "userid": message.userid,
        "rtype": message.rtype,
        "datecreated": account.time.render(message.created),
        "message": account.message_text(message),
    }
    if account.real_world.extra_fields:
        row["format"] = _message_format(channel)
    return row


def kb_entry_row(account: Account, entry: ds.KbEntry) -> dict:
    return {
        "kb_id": entry.kb_id,
        "kb_entry_id": _text(entry.kb_entry_id),
        "parent_entry_id": "" if entry.parent_entry_id is None else _text(entry.parent_entry_id),
        "rtype": entry.rtype,
        "rstatus": entry.rstatus,
        "access": entry.access,
        "access_inherited": entry.access_inherited,
        "urlcode": entry.urlcode,
        "treepath": entry.treepath,
        "rorder": _count(account, entry.rorder),
        "title": entry.title,
        "metadescription": entry.metadescription,
        "keywords": entry.keywords,
        "content": entry.content,
        "conversationid": entry.conversationid,
        "departmentid": entry.departmentid,
        "views": _count(account, entry.views),
        "votes": _count(account, entry.votes),
        "datecreated": account.time.render(entry.created),
        "datechanged": account.time.render(entry.changed),
        "deleted": entry.deleted,
        "description": entry.description,
    }


# -- conversations ---------------------------------------------------------------------------
def list_conversations(account: Account, req: Request) -> dict:
    params, time = req.params, account.time
    datechanged = p.optional(params, "datechanged")
    datefrom, dateto = p.optional(params, "datefrom"), p.optional(params, "dateto")
    where = ConversationFilter(
        datechanged=time.parse_op("datechanged", datechanged) if datechanged else None,
        datefrom=time.parse("datefrom", datefrom) if datefrom else None,
        dateto=time.parse("dateto", dateto) if dateto else None,
        statuses=p.codes(params, "status", ds.CONVERSATION_STATUSES),
        department=p.optional(params, "department"),
        agent=p.optional(params, "agent"),
        owner=p.optional(params, "owneridentifier"),
        channel_types=p.codes(params, "channel_type", ds.CHANNEL_TYPES),
        subject=p.optional(params, "subject"),
    )
    window = paging.CONVERSATIONS.window(params)
    after = account.cursor_position(window.cursor) if window.cursor else None
    indexes = account.list_conversations(where, after, window.limit, skip=window.offset)
    return {"conversations": [conversation_row(account, account.record(i)) for i in indexes]}


def get_conversation(account: Account, req: Request) -> dict:
    index = account.find_conversation(req.args["conversation"])
    return conversation_row(account, account.record(index), detail=True)


def delete_conversation(account: Account, req: Request) -> dict:
    account.delete_conversation(req.args["conversation"])
    return OK


def get_messages(account: Account, req: Request) -> dict:
    index = account.find_conversation(req.args["conversation"])
    datefrom, dateto = p.optional(req.params, "datefrom"), p.optional(req.params, "dateto")
    groups = account.groups(
        index,
        account.time.parse("datefrom", datefrom) if datefrom else None,
        account.time.parse("dateto", dateto) if dateto else None,
    )
    channel = account.record(index).channel
    return {"groups": [group_row(account, g, channel) for g in groups]}


def post_message(account: Account, req: Request) -> dict:
    account.add_message(
        req.args["conversation"],
        p.required(req.params, "message"),
        useridentifier=p.optional(req.params, "useridentifier"),
        kind=p.choice(req.params, "type", ("M", "N"), "M"),
    )
    return OK


def put_status(account: Account, req: Request) -> dict:
    p.required(req.params, "status")
    status = p.choice(req.params, "status", tuple(API_STATUSES), "")
    account.set_status(
        req.args["conversation"], status,
        useridentifier=p.optional(req.params, "useridentifier"),
        note=p.optional(req.params, "note"),
    )
    return OK


def get_conversation_tags(account: Account, req: Request) -> dict:
    conv = account.record(account.find_conversation(req.args["conversation"]))
    tags = account.directory.existing_tags(conv.tags)
    return {"tags": [{"id": t.id, "name": t.name} for t in tags]}


def post_conversation_tag(account: Account, req: Request) -> dict:
    account.tag_conversation(req.args["conversation"], p.optional(req.params, "id"),
                             p.optional(req.params, "name"), add=True)
    return OK


def delete_conversation_tag(account: Account, req: Request) -> dict:
    account.tag_conversation(req.args["conversation"], p.optional(req.params, "id"),
                             p.optional(req.params, "name"), add=False)
    return OK


# -- companies, tags, groups ----------------------------------------------------------------
def list_companies(account: Account, req: Request) -> dict:
    companies = (account.company(i) for i in account.company_indexes())
    return {"companies": [
        {"id": c.id, "name": c.name, "emails": ",".join(c.emails),
         "datecreated": account.time.render(c.created), "ip": c.ip}
        for c in companies
    ]}


def get_company(account: Account, req: Request) -> dict:
    company = account.find_company(req.args["company"])
    groups = account.entities.customer_groups
    return {
        "id": company.id, "name": company.name,
        "datecreated": account.time.render(company.created), "language": company.language,
        "ip": company.ip, "emails": company.emails, "phones": company.phones,
        "groups": [{"groupid": groups[g].id, "groupname": groups[g].name} for g in company.groups],
        "custom_fields": [{"code": c, "value": v} for c, v in company.custom_fields],
        "unique_fields": [{"code": "email", "value": e} for e in company.emails]
        + [{"code": "phone", "value": ph} for ph in company.phones],
    }


def list_tags(account: Account, req: Request) -> dict:
    return {"tags": [{"id": t.id, "name": t.name} for t in account.directory.tags()]}


def get_tag(account: Account, req: Request) -> dict:
    tag = account.entities.tags[account.find_tag(tag_id=req.args["tag"])]
    return {"id": tag.id, "name": tag.name, "is_archived": tag.is_archived, "color": tag.color,
            "bg_color": tag.bg_color}


def put_tag(account: Account, req: Request) -> dict:
    account.update_tag(req.args["tag"], *(p.optional(req.params, name)
                                          for name in ("name", "color", "bg_color")))
    return OK


def list_customer_groups(account: Account, req: Request) -> dict:
    groups = account.directory.customer_groups()
    return {"groups": [{"id": g.id, "name": g.name} for g in groups]}


def get_customer_group(account: Account, req: Request) -> dict:
    group = account.entities.customer_groups[account.directory.find_customer_group(
        req.args["group"])]
    return {"id": group.id, "name": group.name, "color": group.color, "bg_color": group.bg_color}


def delete_tag(account: Account, req: Request) -> dict:
    account.delete_tag(req.args["tag"])
    return OK


def delete_customer_group(account: Account, req: Request) -> dict:
    account.delete_customer_group(req.args["group"])
    return OK


def list_suggestion_categories(account: Account, req: Request) -> dict:
    """Suggestion categories are the knowledge base's 'G' entries."""
    entries = account.directory.kb_entries()
    return {"suggestioncategories": [
        {"id": str(e.kb_entry_id), "title": e.title, "path": f"{_kb_name(account, e)} / {e.title}"}
        for e in entries if e.rtype == "G"
    ]}


def _kb_name(account: Account, entry: ds.KbEntry) -> str:
    return dict(account.entities.knowledgebases).get(entry.kb_id, entry.kb_id)


# -- knowledge base --------------------------------------------------------------------------
def list_knowledgebases(account: Account, req: Request) -> dict:
    rows = [{"kb_id": kb, "name": name} for kb, name in account.directory.knowledgebases()]
    return {"knowledgebases": paging.KNOWLEDGEBASES.page(req.params, rows)}


def list_kb_entries(account: Account, req: Request) -> dict:
    params = req.params
    changed = p.optional(params, "date_changed")
    after = account.time.parse("date_changed", changed, allow_date=True) if changed else None
    entries = _kb_select(account, params, "parent_entry_id", "entry_id", changed_after=after)
    rows = paging.KB_ENTRIES.page(params, entries)
    return {"entries": [kb_entry_row(account, e) for e in rows]}


def list_kb_articles(account: Account, req: Request) -> dict:
    """Deprecated endpoint; the same entries under `articles` with its own parameter names."""
    entries = _kb_select(account, req.params, "parent_id", "article_id")
    rows = paging.KB_ARTICLES.page(req.params, entries)
    return {"articles": [kb_entry_row(account, e) for e in rows]}


def _kb_select(
    account: Account, params: Mapping[str, str], parent_param: str, id_param: str,
    changed_after: int | None = None,
) -> list[ds.KbEntry]:
    kb_id, tree_path = p.optional(params, "kb_id"), p.optional(params, "tree_path")
    parent, entry_id = p.optional(params, parent_param), p.optional(params, id_param)
    selected = []
    for entry in account.directory.kb_entries():  # ordered by kb_entry_id
        if kb_id is not None and entry.kb_id != kb_id:
            continue
        if tree_path is not None and not (entry.treepath + "|").startswith(tree_path):
            continue
        if parent is not None and str(entry.parent_entry_id or 0) != parent:
            continue
        if entry_id is not None and str(entry.kb_entry_id) != entry_id:
            continue
        if changed_after is not None and entry.changed <= changed_after:
            continue
        selected.append(entry)
    return selected


def delete_kb_entry(account: Account, req: Request) -> dict:
    account.delete_kb_entry(req.args["entry"])
    return OK


# -- agents, status, application, reports ----------------------------------------------------
def online_agents(account: Account, req: Request) -> dict:
    now = account.clock.now()
    online = {s.agent for s in account.sessions(now, now)}
    return {"agentsOnlineStates": [
        {
            "id": a.userid, "contactid": a.contactid, "username": a.email,
            "firstname": a.firstname, "lastname": a.lastname,
            "avatar_url": f"themes/agent/_common_templates/img/user{a.index % 10:02d}.png",
            "presetStatus": a.preset_status,
            "onlineStatus": a.preset_status if a.index in online else "F",
        }
        for a in account.directory.agents()
    ]}


def get_agent(account: Account, req: Request) -> dict:
    a = account.agent(req.args["agent"])
    return {
        "contactid": a.contactid, "userid": a.userid, "email": a.email,
        "firstname": a.firstname, "lastname": a.lastname, "systemname": a.systemname,
        "authtoken": a.authtoken, "browsercookiename": a.browsercookiename,
        "gender": a.gender, "role": a.role,
    }


def application_status(account: Account, req: Request) -> dict:
    now = account.clock.now()
    status = {"liveagentversion": APPLICATION_VERSION,
              "current_server_time": account.time.render(now)}
    if account.real_world.status_extra_fields:
        status["gpfversion"] = GPF_VERSION
        status["dateinstalled"] = account.time.render(account.start)
        status["datelatestupdate"] = account.time.render(now - LATEST_UPDATE_AGE)
    return status


def get_report(account: Account, req: Request) -> dict:
    return report(account, req.args["report"], req.params)
