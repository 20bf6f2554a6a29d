"""Demo canned replies (`confide demo`): a handful per language, realistic and ready to edit."""

from __future__ import annotations

from confide.replies import actions, queries
from confide.runtime import Runtime

#: (title, chat type or "all", language, text). Written in the language they are offered in:
#: a reply is content chosen by the supervisors, not interface text.
DEMO_REPLIES: list[tuple[str, str, str, str]] = [
    (
        "Accueil",
        "all",
        "fr",
        "Bonjour, je suis policier et je suis là pour vous écouter. Cette conversation est anonyme : vous n'avez pas à donner votre nom. Prenez votre temps et écrivez-moi ce qui se passe, quand vous êtes prêt(e).",
    ),
    (
        "Êtes-vous en sécurité ?",
        "all",
        "fr",
        "Avant tout : êtes-vous en sécurité en ce moment ? Si vous êtes en danger, appelez le 17 (ou le 112). Si vous ne pouvez pas parler, envoyez un SMS au 114 : on vous répondra par écrit.",
    ),
    (
        "Porter plainte",
        "all",
        "fr",
        "Vous pouvez porter plainte dans n'importe quel commissariat ou gendarmerie : ils doivent prendre votre plainte. Vous pouvez aussi écrire au procureur de la République. Je peux vous expliquer comment cela se passe et ce que vous pouvez apporter, si vous le souhaitez.",
    ),
    (
        "Violences conjugales : le 3919",
        "domestic",
        "fr",
        "Vous pouvez aussi appeler le 3919 (Violences Femmes Info) : c'est gratuit, anonyme, et ouvert jour et nuit. L'appel n'apparaît pas sur les factures de téléphone.",
    ),
    (
        "Violences sexuelles : soins",
        "sexual",
        "fr",
        "Si les faits sont récents, allez aux urgences dès que possible : un médecin peut vous soigner et vous proposer un traitement préventif. Vous n'avez pas besoin d'avoir porté plainte pour être soigné(e).",
    ),
    (
        "Discrimination : Défenseur des droits",
        "discrimination",
        "fr",
        "Gardez toutes les preuves (messages, courriels, noms des témoins). Vous pouvez porter plainte et aussi contacter le Défenseur des droits au 39 28 : c'est gratuit.",
    ),
    (
        "Clôture",
        "all",
        "fr",
        "Merci de nous avoir écrit. Je vais clore cette conversation. Vous pouvez revenir quand vous voulez, jour et nuit. En cas de danger, appelez le 17 ou envoyez un SMS au 114. Prenez soin de vous.",
    ),
    (
        "Greeting",
        "all",
        "en",
        "Hello, I am a police officer and I am here to listen. This conversation is anonymous: you do not have to give your name. Take your time and tell me what is happening, when you are ready.",
    ),
    (
        "Are you safe?",
        "all",
        "en",
        "First of all: are you safe right now? If you are in danger, call 17 (or 112). If you cannot speak, send a text message to 114: they will answer you in writing.",
    ),
    (
        "Filing a complaint",
        "all",
        "en",
        "You can file a complaint at any police station or gendarmerie: they must take it. You can also write to the public prosecutor. If you wish, I can explain how it goes and what you can bring.",
    ),
    (
        "Domestic violence: 3919",
        "domestic",
        "en",
        "You can also call 3919 (Violences Femmes Info): it is free, anonymous and open day and night. The call does not show on phone bills.",
    ),
    (
        "Closing",
        "all",
        "en",
        "Thank you for writing to us. I am going to close this conversation. You can come back whenever you want, day or night. If you are in danger, call 17 or send a text message to 114. Take care.",
    ),
]


async def seed_demo_replies(rt: Runtime) -> int:
    """Add the demo replies when there are none yet (idempotent); returns how many were added.
    Audited as `reply.changed` from the command line."""
    async with rt.reading() as session:
        if await queries.count(session):
            return 0
    for title, channel, lang, body in DEMO_REPLIES:
        spec = actions.check_reply(title=title, body=body, channel=channel, lang=lang)
        await actions.save_reply(rt, actor=None, spec=spec)
    return len(DEMO_REPLIES)
