# ruff: noqa: E501  (prose is data here: one paragraph per line keeps it readable and diffs small)
"""Page content of the quickstart sample (curate/data/sample.warc.gz), as data.

Every line of prose here was written for this project: no text is copied from the web. `make_sample.py` turns these
entries into HTML pages (adding navigation, cookie banners, sidebars and footers from its templates) and writes them
to a WARC file. Bodies are blocks separated by blank lines: a block starting with `## ` is a subheading, a block
whose lines all start with `- ` is a list, a block starting with "```" is a code block, a block starting with `<` is
raw HTML, anything else is a paragraph.

Keys of an ARTICLES entry: lang, site, title, author, date, body; optional: charset (the encoding of the bytes),
http_charset / meta_charset (where the charset is declared; None = not declared there), category (default
"article"), copies (extra sites serving the identical text), variants (near-duplicate edits, see VARIANTS).
"""

from __future__ import annotations

# ----------------------------------------------------------------------------------------------------------------
# Good, substantive articles. English first.
# ----------------------------------------------------------------------------------------------------------------

ARTICLES: dict[str, dict] = {}

ARTICLES["tides"] = dict(
    lang="en",
    site="curious",
    title="Why the Sea Rises and Falls Twice a Day",
    author="Tom Avery",
    date="3 March 2025",
    body="""
Anyone who has spent a full day on a beach knows that the sea does not stay put. In the morning the water may lap at the foot of the dunes, and by early afternoon a wide band of wet sand, rock pools and stranded seaweed has appeared. A few hours later the water is back. This rhythm, repeated roughly twice a day along most of the world's coasts, is the tide, and its main cause sits about 384,000 kilometres away.

The Moon pulls on everything on Earth, but it does not pull equally. Gravity weakens with distance, so the ocean on the side of the planet facing the Moon is tugged slightly more strongly than the solid Earth beneath it, and the solid Earth is tugged more strongly than the ocean on the far side. The result is not one bulge of water but two: one pointing toward the Moon and one pointing away from it. As the Earth turns underneath these bulges, a given harbour passes through both of them each day, which is why most places see two high tides and two low tides.

The timing drifts. Because the Moon moves along its own orbit in the same direction that the Earth spins, a point on the coast needs a little extra time to catch up with it. A full tidal day therefore lasts about 24 hours and 50 minutes, and high water arrives almost an hour later each day. Fishermen and sailors have tracked this slow slide for thousands of years, long before anyone could explain it.

The Sun plays a supporting role. It is far more massive than the Moon but also much farther away, and its tidal effect is a little less than half as strong. When the Sun, Moon and Earth line up, at new moon and full moon, the two effects add together and produce spring tides, with unusually high highs and low lows. The name has nothing to do with the season; it comes from the idea of the water springing up. When the Sun and Moon sit at right angles to each other, during the quarter moons, they partly cancel and the range shrinks to the gentler neap tides.

Real coastlines complicate this tidy picture. The ocean basins are not a smooth global sea, and water cannot simply flow around the planet to keep up with the bulges. Instead the tide behaves like a set of enormous waves sloshing within each basin, turning around points where the range is almost zero. The shape of the seabed and the coast can amplify these waves dramatically. In funnel-shaped bays the incoming water piles up, and the difference between high and low water can exceed ten metres, while some enclosed seas barely notice the tide at all.

Some places even have only one high tide a day, or a mixed pattern in which the two daily highs are very different in height. Tide tables account for all of this by combining dozens of regular components, each tied to a particular motion of the Moon or Sun, with measurements taken at the harbour over many years.

Tides matter well beyond the beach. They decide when large ships can enter shallow ports, they shape the salt marshes and mudflats that feed migrating birds, and they stir the coastal ocean, mixing nutrients up from deeper water. Engineers have built barrages and underwater turbines to capture their energy, which, unlike wind or sunshine, can be predicted decades in advance. The next time you watch the water creep back over the sand, you are watching the Moon at work.
""",
)

ARTICLES["printing"] = dict(
    lang="en",
    site="tidewater",
    title="How Movable Type Changed Europe",
    author="Clara Whitfield",
    date="18 January 2025",
    body="""
Before the middle of the fifteenth century, a book in Europe was a rare and expensive object. Each copy was written out by hand, usually by trained scribes working in monasteries or in the workshops that served universities. A large volume could take months to finish, and mistakes crept in with every copy, so that two manuscripts of the same text were rarely identical.

Printing from carved wooden blocks had been known for a long time, and movable type made of ceramic and later metal had been used in East Asia centuries earlier. In the German city of Mainz around 1450, Johannes Gutenberg combined several techniques into a system that suited the Latin alphabet particularly well. He cast individual letters in metal using a hand mould, so that thousands of identical pieces could be produced quickly. He used an oil-based ink that stuck to metal better than the water-based inks of the scribes, and he adapted the screw press, a tool already familiar from making wine and paper, to push the paper evenly onto the inked type.

The result was not merely faster copying. Once the type for a page had been set, hundreds of copies could be pulled, each exactly the same. Printers could correct an error once and know that it was gone from the whole edition. Scholars in different cities could now refer to the same page of the same book, which made argument and correction much easier.

The technology spread with remarkable speed. Within fifty years there were presses in more than two hundred European towns, and millions of books had been printed. Printers were business people who needed to sell what they made, so alongside Bibles and classical texts they produced calendars, grammar books, medical advice, pamphlets and songs in the everyday languages that ordinary readers spoke.

Historians still debate exactly how much of the change that followed should be credited to printing. The religious controversies of the sixteenth century, the growth of scientific communities that shared observations by letter and in print, and the gradual rise in literacy all depended on many causes. What is hard to dispute is that printing made ideas cheaper to copy and harder to suppress. A text that existed in a thousand copies spread across a continent could not easily be made to disappear.
""",
)

ARTICLES["sourdough"] = dict(
    lang="en",
    site="kitchen",
    title="Starting a Sourdough Starter From Scratch",
    author="Priya Nandakumar",
    date="9 February 2025",
    copies=["crumb", "digest"],
    body="""
A sourdough starter is nothing more than flour and water in which wild yeasts and bacteria have made themselves at home. Those microbes are already present on the grain and in your kitchen; the job of the baker is simply to give them food and a stable environment until they outnumber everything else. It takes about a week, a jar, and a little patience.

Begin with wholegrain flour if you can. Rye and wholemeal wheat carry more of the organisms you want and more nutrients to feed them. Mix about fifty grams of flour with fifty grams of lukewarm water in a clean glass jar, stir until no dry flour remains, cover the jar loosely and leave it somewhere reasonably warm, ideally between twenty and twenty-six degrees Celsius.

For the first day or two very little may happen. Then the mixture often bursts into activity, bubbling and smelling strongly of cheese or old socks. This early burst usually comes from bacteria that do not last, and it is common for the starter to fall quiet again afterwards. Do not give up at this stage; it is a normal part of the process.

Each day, discard most of the mixture, keeping only a spoonful or two, and feed what remains with fresh flour and water in equal weights. Discarding feels wasteful, but it keeps the amount manageable and ensures that the microbes have plenty of food relative to their numbers. As the days pass, the acidity rises, unwanted organisms are pushed out, and a more stable community of yeast and lactic acid bacteria takes over.

You will know the starter is ready when it rises predictably after each feeding, roughly doubling in volume within four to eight hours, and when it smells pleasantly sour, perhaps a little like yogurt or green apples. A spoonful dropped into water should float, although this test is not infallible. At that point you can use it to bake, or keep it in the refrigerator and feed it once a week.

If a layer of grey liquid appears on top, the starter is simply hungry; pour it off or stir it back in and feed it. Pink or orange streaks, on the other hand, are a sign of contamination, and it is safer to start again. Most problems come from a kitchen that is too cold, so a warmer spot often solves a sluggish starter in a day or two.
""",
)

ARTICLES["coastpath"] = dict(
    lang="en",
    site="slowtravel",
    title="Three Days on a Cliff-Top Path",
    author="Jonas Berg",
    date="27 May 2025",
    body="""
There is a particular kind of tiredness that comes from walking beside the sea. The wind never quite stops, the path rises and falls with every valley that cuts down to the shore, and by evening your legs ache in a way that feels well earned. We spent three days on a stretch of cliff-top path last spring, carrying light packs and staying in small guesthouses, and it was one of the most satisfying trips we have made.

The first day was the gentlest. The path left a harbour town along a wide track above a sandy bay, then narrowed as it climbed onto the headland. Sea pinks and yellow gorse lined the edge, and every so often a bench had been placed at exactly the spot where you would want to stop. We saw seals hauled out on a rock far below and heard, long before we saw them, the colony of seabirds nesting on the ledges of a cliff.

The second day was harder. Streams have cut deep valleys into this coast, and the path crosses each of them by dropping steeply to a pebble cove and climbing out the other side. We counted eleven such descents before lunch. The reward was a series of coves that could only be reached on foot, each with its own character: one with an old stone lime kiln, one with a waterfall falling straight onto the beach, one completely empty except for a pair of oystercatchers.

On the third morning fog rolled in from the sea and the world shrank to a few metres of path and the sound of waves somewhere below. It was strangely peaceful. By noon the fog lifted all at once, revealing the lighthouse we had been walking towards, and we finished the walk in bright sunshine.

A few practical notes for anyone tempted to try something similar. Good boots matter more than anything else, because the path is often uneven and muddy even in dry weather. Check the tide times if any section crosses a beach. Carry more water than you think you need, since cafes are rare between villages, and book accommodation ahead in the busy months. Above all, leave time to stop. The best moments were the unplanned ones, sitting on the grass with a sandwich and watching the light move across the water.
""",
)

ARTICLES["pubkey"] = dict(
    lang="en",
    site="techweekly",
    title="Public-Key Cryptography Without the Math",
    author="Daniel Okafor",
    date="12 April 2025",
    body="""
Every time a browser shows a small padlock next to a web address, two computers that have never met have agreed on a secret over a network that anyone could be listening to. That sounds impossible, and for most of history it was. Until the 1970s, any two parties who wanted to communicate privately first had to share a key through some trusted channel: a courier, a sealed envelope, a meeting in person.

Public-key cryptography removed that requirement. The central idea is to split the key into two halves that are mathematically linked but play different roles. One half, the public key, can be handed out freely, printed on a website or sent in an ordinary email. The other half, the private key, never leaves its owner. Anything locked with the public key can only be unlocked with the matching private key.

A useful picture is a padlock that anyone can snap shut but only one person can open. Suppose Alice wants to receive messages. She manufactures a large batch of open padlocks and leaves them in a public place, keeping the only key at home. Bob takes one, puts his message in a box, and snaps the lock closed. Even Bob cannot reopen the box now. Only Alice can.

The same pair of keys can also work in reverse to produce digital signatures. If Alice processes a document with her private key, anyone holding her public key can check that the result could only have come from her and that the document has not been altered since. Signatures are what let your computer trust that a software update really comes from its vendor, and they are the backbone of the certificates that websites present when you connect to them.

What makes the scheme secure is a class of mathematical problems that are easy to perform in one direction and extremely hard to reverse. Multiplying two large prime numbers takes a computer a fraction of a second; recovering those primes from their product, when the numbers are hundreds of digits long, is believed to be out of reach for any conventional machine. Other systems rely on the difficulty of problems involving points on elliptic curves, which give the same protection with much shorter keys.

In practice, public-key methods are slow compared with traditional ciphers, so they are rarely used to encrypt large amounts of data directly. Instead, a connection begins with a short public-key exchange whose only job is to agree on a fresh random key, and the rest of the conversation is protected with a fast symmetric cipher using that key. This combination gives the convenience of public keys with the speed of older techniques.

The field is not standing still. Large quantum computers, if they are ever built, could solve some of the hard problems that today's systems depend on. Researchers have therefore spent years designing and testing new algorithms based on different mathematics, and standards bodies have begun to publish them. The padlocks are being redesigned before anyone has found a way to pick the old ones.
""",
)

ARTICLES["skyblue"] = dict(
    lang="en",
    site="curious",
    title="Why Is the Sky Blue?",
    author="Tom Avery",
    date="21 February 2025",
    copies=["sciencemirror"],
    body="""
It is one of the first scientific questions children ask, and the answer turns out to involve the size of molecules, the nature of light, and a little bit of human biology. Sunlight looks white, but it is a mixture of all the colours of the rainbow, from red light with long wavelengths to violet light with short ones. On its way through the atmosphere, that light meets an enormous number of nitrogen and oxygen molecules.

These molecules are far smaller than the wavelength of visible light. When light meets particles that small, some of it is redirected in all directions, a process known as Rayleigh scattering after the British physicist who described it in the nineteenth century. The key point is that the effect depends very strongly on wavelength: shorter waves are scattered much more than longer ones. Blue light is scattered several times more than red light.

So when you look at any part of the sky away from the Sun, what reaches your eyes is mostly sunlight that has been bounced around by the air, and that light is rich in the shorter wavelengths. The sky glows blue in every direction, while the Sun itself looks slightly more yellow than it would from space, because some of its blue light has been removed along the way.

If violet light has an even shorter wavelength, why is the sky not violet? There are several reasons. The Sun emits somewhat less violet than blue, some violet light is absorbed high in the atmosphere, and our eyes are much less sensitive to violet than to blue. The colour receptors in the eye respond to the mixture of scattered light in a way that the brain interprets as a pale, slightly whitish blue.

The same physics explains red sunsets. When the Sun is low on the horizon, its light travels through a much thicker layer of air to reach you. Along that long path most of the blue light is scattered out sideways, and what remains is dominated by oranges and reds. Dust, smoke and tiny droplets can deepen the colours further, which is why sunsets after volcanic eruptions or large fires can be especially vivid.

Clouds, by contrast, are white because their droplets are much larger than the wavelength of light and scatter all colours roughly equally. On other planets the story changes: the thin, dusty atmosphere of Mars gives it a butterscotch sky during the day and bluish sunsets, the opposite of what we see at home.
""",
)

ARTICLES["lighthouses"] = dict(
    lang="en",
    site="tidewater",
    title="A Short History of Lighthouses",
    author="Clara Whitfield",
    date="2 March 2025",
    body="""
For as long as people have sailed, they have needed to know where the land is, and especially where it is dangerous. The earliest warning lights were simple fires lit on hilltops or at harbour entrances. The most famous ancient example, the great tower at Alexandria in Egypt, was built in the third century BCE and stood for well over a thousand years, becoming so well known that its name became the word for lighthouse in several languages.

For most of history, though, lights were few, dim and unreliable. Coal fires in open braziers, candles and oil lamps produced a weak glow that was easily lost in rain or fog, and keepers struggled to keep them burning through storms. Many coasts had no lights at all, and shipwrecks were a routine part of maritime life.

The eighteenth and nineteenth centuries brought a series of improvements. Engineers learned to build towers on exposed rocks in the open sea, using interlocking blocks of stone that could withstand enormous waves. Better oil lamps with hollow wicks and glass chimneys burned brighter and cleaner. The greatest advance came from the French physicist Augustin Fresnel, who designed a lens made of concentric rings of glass prisms. It gathered light that would otherwise have been wasted and bent it into a powerful horizontal beam that could be seen from many kilometres away.

Lighthouses also learned to speak. To tell one light from another, each was given its own character: a fixed light, a certain number of flashes, a particular rhythm or colour. Sailors carried lists of these signatures and could identify their position simply by counting the seconds between flashes.

The life of a keeper was demanding and often lonely. Lamps had to be trimmed and lenses cleaned every day, and on remote rock stations keepers might spend weeks without setting foot on the mainland. Over the twentieth century, electricity, automatic lamp changers and remote monitoring made the keepers unnecessary, and the last staffed stations in many countries closed in the 1980s and 1990s.

Today satellite navigation has taken over much of the work, but lights are still maintained as a backup and as a simple, reliable signal that needs no electronics on board. Many old towers have become museums or holiday cottages, and they remain among the most loved buildings on any coast.
""",
)

ARTICLES["braising"] = dict(
    lang="en",
    site="kitchen",
    title="Braising: The Slow Way to Tender Food",
    author="Priya Nandakumar",
    date="14 November 2024",
    body="""
Braising is one of the most forgiving techniques in the kitchen, and one of the most rewarding on a cold evening. The principle is simple: food is first browned in a little fat, then cooked slowly in a covered pot with a modest amount of liquid, usually at a low temperature, until it becomes meltingly tender. The method suits the tougher, cheaper cuts of meat that would be chewy if cooked quickly, but it works just as well for sturdy vegetables and pulses.

The browning step matters more than it seems. When the surface of meat or vegetables is heated well above the boiling point of water, sugars and proteins react to form hundreds of new flavour compounds and a deep brown colour. Take your time with it and avoid crowding the pan, because too many pieces at once release moisture and end up steaming instead of browning. Afterwards, soften onions, carrots and celery in the same pot and scrape up the browned bits from the bottom with a splash of wine, stock or even water.

Next comes the liquid. It should come partway up the ingredients rather than covering them completely, so that the top of the food steams and browns gently while the bottom simmers. Stock, wine, beer, cider, tomatoes and coconut milk all work, each pushing the dish in a different direction. Herbs such as thyme and bay leaves, a few garlic cloves and a strip of orange peel add depth without much effort.

Then the pot goes, covered, into a low oven or onto the lowest flame on the hob. Somewhere around one hundred and fifty degrees Celsius in the oven is ideal. Over two to four hours the connective tissue in the meat, which is rich in collagen, slowly breaks down into gelatin. That is what gives a good braise its silky sauce and makes the meat pull apart with a spoon.

A braise is almost always better the next day, once the flavours have had time to settle. Cooling it overnight also lets the fat rise and set on the surface, where it is easy to lift off. Reheat gently, reduce the sauce if it seems thin, and serve with something to soak it up: mashed potatoes, polenta, rice or simply good bread.
""",
)

ARTICLES["nighttrains"] = dict(
    lang="en",
    site="slowtravel",
    title="The Quiet Return of the Night Train",
    author="Jonas Berg",
    date="6 October 2024",
    body="""
For a few decades it looked as if the sleeper train would disappear from most of Europe. Cheap flights and fast daytime trains had made overnight services look slow and old-fashioned, and one operator after another cancelled its routes. Yet in the past few years the night train has made a modest comeback, and travellers who try it often find that the journey becomes one of the highlights of the trip.

The appeal is easy to explain. You board in the evening, usually in the centre of a city rather than at an airport far outside it, and you arrive the next morning in the centre of another. The hours you would have spent in a hotel are spent travelling instead, so a long trip costs you no daylight at all. There are no security queues, no liquids in small plastic bags, and nobody asks you to switch off your phone.

Accommodation comes in several classes. The cheapest option is usually a reclining seat, which is fine for younger travellers with good earplugs but leaves most people tired. A couchette compartment holds four or six bunks with sheets, a pillow and a blanket, and is shared with strangers. Sleeper compartments are smaller private cabins with one to three proper beds, and some newer trains offer a washbasin or even a private shower. Breakfast, often a roll, jam and coffee, is typically brought to the compartment shortly before arrival.

Sleeping on a moving train takes a little practice. The carriages sway gently, and there are occasional jolts when the train is split or joined with another one at a junction in the middle of the night. Many passengers find the motion soothing after the first hour. It helps to bring a small bag with everything you need for the night so that the main luggage can stay stowed away, and to keep valuables with you in the bunk.

Booking can be the most frustrating part. Night trains often cross several borders and involve more than one railway company, and tickets are sometimes only sold a few months in advance. Popular routes in summer and around holidays sell out quickly, especially the private compartments. It is worth checking the operator's own website as well as the national railways, because not every ticket appears everywhere.

There is also an environmental argument. A seat on a well-filled electric train produces only a fraction of the emissions of the same journey by plane, and the difference is largest on exactly the medium distances that night trains cover best, from about five hundred to fifteen hundred kilometres. For many travellers that is a bonus rather than the main reason; they simply like waking up somewhere new with the countryside rolling past the window.
""",
)

ARTICLES["compilers"] = dict(
    lang="en",
    site="techweekly",
    title="What Does a Compiler Actually Do?",
    author="Mei Lin Tan",
    date="30 January 2025",
    body="""
Programmers write code in languages designed to be readable by people, with names, structure and comments. Processors, on the other hand, understand only long sequences of very simple instructions: load a number from memory, add two numbers, jump to another instruction if a value is zero. A compiler is the program that translates the first into the second, and it does far more than a word-for-word substitution.

The first stage is lexical analysis, in which the source text is broken into tokens: keywords, names, numbers, operators and punctuation. Whitespace and comments are usually discarded here. The stream of tokens is then passed to the parser, which checks that it follows the grammar of the language and builds a tree that represents the structure of the program, showing for example that a multiplication must happen before an addition.

Next comes semantic analysis. The compiler works out what each name refers to, checks that values are used consistently with their types, and reports errors such as calling a function with the wrong number of arguments. Many of the error messages a programmer sees come from this stage, and good compilers put considerable effort into making them clear.

Most modern compilers then translate the tree into an intermediate representation, a simplified language that is easier to analyse than the original source but not yet tied to any particular processor. This is where optimisation happens. The compiler may compute constant expressions ahead of time, remove code whose results are never used, move calculations out of loops, or replace a function call with the body of the function itself. Each transformation must preserve the meaning of the program exactly, which makes optimisers some of the most carefully tested software in existence.

Finally, the back end chooses real machine instructions, decides which values live in the small number of fast registers inside the processor and which must be kept in memory, and writes out an object file. A separate tool called a linker combines object files and libraries into a finished program.

Not every language works this way. Some are interpreted, executed directly by another program, and many popular ones use a mixture, compiling to an intermediate form that is then run by a virtual machine or compiled to machine code while the program is running. The underlying ideas of breaking text into tokens, building a tree and transforming it step by step remain remarkably similar.
""",
)

ARTICLES["honeybees"] = dict(
    lang="en",
    site="curious",
    title="How Honeybees Tell Each Other Where to Find Food",
    author="Ruth Adeyemi",
    date="11 June 2025",
    body="""
A honeybee colony faces a difficult problem. Its food is scattered across the landscape in patches of flowers that bloom and fade over days or weeks, sometimes several kilometres from the hive. A single forager can search only a small area, yet the colony as a whole manages to direct its workers toward the richest sources with remarkable efficiency. The secret is a form of communication that has fascinated biologists for a century: the waggle dance.

When a forager returns from a good patch of flowers, she climbs onto the vertical surface of the honeycomb and begins to move in a figure-of-eight pattern. In the central run of the figure she waggles her body from side to side while buzzing her wings, then loops back around to start again. Other bees crowd around her, following her movements in the darkness of the hive by touch and vibration.

The dance encodes two pieces of information. The angle of the waggle run relative to straight up on the comb represents the direction of the food relative to the position of the Sun. A run pointing directly upward means fly toward the Sun; a run angled forty degrees to the right of vertical means fly forty degrees to the right of the Sun. The duration of the waggle run indicates distance: the longer the waggle, the farther away the flowers.

The bees even correct for the movement of the Sun across the sky. A forager that dances for a long time gradually shifts the angle of her dance to match the Sun's changing position, and recruits that leave the hive hours later still find the right direction.

Not every source gets the same publicity. Foragers that have found particularly sweet nectar or plentiful pollen dance longer and more vigorously, recruiting more followers, while those returning from poorer patches dance briefly or not at all. In this way the colony behaves like a decentralised decision-making system, constantly shifting its workforce toward the best available food without any individual bee having an overview of the whole landscape.

Researchers have tested the meaning of the dance in many ingenious ways, including robotic bees that perform dances of their own and radar tracking of individual recruits. The basic interpretation has held up well, although it is now clear that scent and other cues also help recruits to find their target once they are in the right area.
""",
)

ARTICLES["composting"] = dict(
    lang="en",
    site="tidewater",
    title="Composting at Home: A Beginner's Guide",
    author="Sam Holloway",
    date="22 April 2025",
    body="""
Roughly a third of what many households throw away is food scraps and garden waste, material that can be turned into rich, crumbly compost instead of being sent to landfill. Composting is not complicated. It relies on the same fungi, bacteria, worms and insects that break down fallen leaves on a forest floor; all the gardener does is give them good conditions to work in.

The first thing to understand is the balance between two kinds of material, often called greens and browns. Greens are moist and rich in nitrogen: vegetable peelings, fruit scraps, coffee grounds, tea leaves and fresh grass clippings. Browns are dry and rich in carbon: fallen leaves, straw, shredded paper, cardboard and small twigs. A heap made only of greens becomes wet, dense and smelly, while a heap of browns alone barely decomposes. A rough mixture of about equal volumes, or a little more brown than green, works well.

Air and moisture are the other ingredients. The organisms that do the quick, odour-free work of composting need oxygen, so turning the heap every few weeks with a fork speeds things up considerably. The material should feel like a wrung-out sponge: damp but not dripping. In dry weather add water; in wet weather cover the heap and mix in more browns.

Some things are best kept out of a home compost heap. Meat, fish and dairy products can attract rats and produce unpleasant smells. Diseased plants and the roots of persistent weeds may survive and spread, and cat or dog waste can carry parasites. Cooked food in small amounts is usually fine in a well-managed bin.

Depending on the season and how often you turn it, compost can be ready in anywhere from two months to a year. Finished compost is dark brown, smells of damp earth and no longer shows recognisable scraps, apart perhaps from a few eggshells. Spread it on flower beds and vegetable patches, mix it into potting soil, or use it as a mulch around shrubs. Your plants will benefit, and so will the amount of rubbish you put out each week.
""",
)

# ----------------------------------------------------------------------------------------------------------------
# German. "wald" is the non-UTF-8 page: windows-1252 bytes, charset declared only in a <meta http-equiv> tag.
# ----------------------------------------------------------------------------------------------------------------

ARTICLES["wald"] = dict(
    lang="de",
    site="wissen",
    title="Der Wald im Klimawandel",
    author="Katrin Hofmeister",
    date="4. Juli 2025",
    charset="windows-1252",
    http_charset=None,
    meta_charset="windows-1252",
    body="""
Wer im Sommer durch einen deutschen Mittelgebirgswald wandert, sieht an vielen Stellen ein Bild, das vor zwanzig Jahren kaum jemand erwartet hätte: ganze Hänge mit abgestorbenen Fichten, graue Stämme ohne Nadeln, dazwischen frisch geräumte Kahlflächen. Trockenheit, Hitze und der Borkenkäfer haben in wenigen Jahren mehr Bäume zum Absterben gebracht als viele Stürme zusammen.

Die Fichte war lange der „Brotbaum“ der Forstwirtschaft. Sie wächst schnell und gerade, ihr Holz ist gefragt, und nach den großen Rodungen früherer Jahrhunderte wurde sie vielerorts in dichten Reinbeständen gepflanzt, auch an Orten, an denen sie von Natur aus nie vorgekommen wäre. Ursprünglich ist sie ein Baum der Berge und des kühlen Nordens. Mit ihren flachen Wurzeln kommt sie an das Wasser tieferer Bodenschichten kaum heran, und in trockenen Sommern geraten geschwächte Bäume schnell in Not.

Genau darauf wartet der Buchdrucker, eine Borkenkäferart von wenigen Millimetern Größe. Gesunde Fichten wehren ihn mit Harz ab, doch gestresste Bäume können das nicht mehr. In warmen Jahren bildet der Käfer mehrere Generationen, und aus einigen befallenen Bäumen werden innerhalb eines Sommers Tausende.

Förster setzen deshalb zunehmend auf Mischwälder. Neben heimischen Laubbäumen wie Buche, Eiche, Ahorn und Linde werden auch Arten gepflanzt, die mit Wärme und Trockenheit besser zurechtkommen, etwa die Traubeneiche, die Elsbeere oder die Weißtanne. Die Idee dahinter ist einfach: Ein Wald aus vielen Arten ist wie ein gut gestreutes Sparbuch. Fällt eine Art aus, bleiben die anderen stehen.

Der Umbau kostet Zeit und Geld. Für einen Hektar Neupflanzung können schnell mehrere tausend € anfallen, und bis ein junger Mischwald wieder wie ein Wald aussieht, vergehen Jahrzehnte. Manche Fachleute raten, auf geschädigten Flächen zunächst der Natur den Vortritt zu lassen: Birken, Ebereschen und Weiden siedeln sich oft von selbst an und bereiten den Boden für langlebigere Bäume vor.

Für Spaziergänger bedeutet das: Der Wald der Zukunft wird bunter, lichter und vielfältiger aussehen als die dunklen Fichtenforste, die viele aus ihrer Kindheit kennen. Ob er den kommenden Jahrzehnten gewachsen ist, wird sich erst zeigen – sicher ist nur, dass sich die Wälder schneller verändern als je zuvor.
""",
)

ARTICLES["brezel"] = dict(
    lang="de",
    site="brotzeit",
    title="Die Kunst des Brezelbackens",
    author="Andreas Kessler",
    date="15. März 2025",
    copies=["wissen"],
    body="""
Kaum ein Gebäck ist so eng mit Süddeutschland verbunden wie die Brezel. Ihre Form mit dem dicken „Bauch“, den dünnen Ärmchen und der verschlungenen Mitte ist unverwechselbar, und in Bayern und Schwaben gehört sie zum Frühstück, zur Brotzeit und zum Biergarten wie selbstverständlich dazu. Über ihre Herkunft gibt es viele Legenden; eine erzählt von einem Bäcker, der ein Gebäck erfinden sollte, durch das die Sonne dreimal scheint.

Der Teig selbst ist schlicht: Weizenmehl, Wasser, etwas Butter oder Schmalz, Salz und Hefe. Er wird fest geknetet, damit er sich gut rollen lässt, und sollte nur kurz gehen. Für eine Brezel rollt man ein Teigstück zu einem langen Strang, der in der Mitte dick bleibt und zu den Enden hin dünn ausläuft. Dann hebt man die beiden Enden an, schlingt sie zweimal umeinander und drückt sie links und rechts an den Bauch. Geübte Bäcker erledigen das in wenigen Sekunden mit einem Schwung aus dem Handgelenk.

Das Geheimnis der typischen braunen, glänzenden Kruste ist die Lauge. Vor dem Backen werden die Teiglinge kurz in eine verdünnte Natronlauge getaucht. Im heißen Ofen sorgt sie dafür, dass die Oberfläche besonders stark bräunt und den unverwechselbaren Geschmack bekommt. Weil Natronlauge ätzend ist, braucht man beim Hantieren Handschuhe und eine Schutzbrille; zu Hause verwenden viele deshalb eine Lösung aus gebackenem Natron, die schwächer wirkt, aber ebenfalls gute Ergebnisse liefert.

Nach dem Eintauchen wird der Bauch mit einem scharfen Messer eingeschnitten, damit er im Ofen kontrolliert aufreißen kann, und die Brezel wird mit grobem Salz bestreut. Bei hoher Temperatur backt sie in etwa fünfzehn bis zwanzig Minuten. Frisch aus dem Ofen schmeckt sie am besten, am liebsten mit Butter bestrichen.

Regional gibt es feine Unterschiede. Die schwäbische Brezel hat meist dünnere, knusprigere Ärmchen und einen hoch eingeschnittenen Bauch, während die bayerische gleichmäßiger geformt ist und an der Oberfläche aufplatzt. Übrig gebliebene Brezeln werden übrigens nicht weggeworfen: Aufgeschnitten und mit Butter im Ofen geröstet, oder als Grundlage für Knödel, finden sie am nächsten Tag noch eine gute Verwendung.
""",
)

ARTICLES["waermepumpe"] = dict(
    lang="de",
    site="wissen",
    title="Wie eine Wärmepumpe funktioniert",
    author="Katrin Hofmeister",
    date="8. Januar 2025",
    body="""
Wärmepumpen gelten als eine der wichtigsten Techniken, um Gebäude ohne Öl und Gas zu beheizen. Viele Menschen wundern sich jedoch, wie ein Gerät ausgerechnet aus kalter Winterluft Wärme gewinnen soll. Die Antwort steckt in einem Prinzip, das fast jeder aus der eigenen Küche kennt: dem Kühlschrank.

Ein Kühlschrank transportiert Wärme aus seinem Inneren nach außen, deshalb ist die Rückseite warm. Eine Wärmepumpe macht genau dasselbe, nur in umgekehrter Richtung: Sie entzieht der Umgebung Wärme – der Außenluft, dem Erdreich oder dem Grundwasser – und gibt sie im Haus an die Heizung ab. Auch Luft von null Grad enthält noch reichlich Wärmeenergie, denn der absolute Nullpunkt liegt bei minus 273 Grad.

Das Herzstück ist ein Kältemittel, das in einem geschlossenen Kreislauf zirkuliert. Es siedet schon bei sehr niedrigen Temperaturen. Im Verdampfer nimmt es Wärme aus der Umgebung auf und wird dabei gasförmig. Ein elektrisch angetriebener Verdichter presst das Gas anschließend zusammen, wodurch seine Temperatur stark steigt. Im Verflüssiger gibt es diese Wärme an das Heizungswasser ab und wird wieder flüssig. Schließlich entspannt ein Ventil das Kältemittel, es kühlt ab, und der Kreislauf beginnt von vorn.

Entscheidend ist das Verhältnis von gewonnener Wärme zu eingesetztem Strom. Eine gute Wärmepumpe liefert aus einer Kilowattstunde Strom drei bis vier Kilowattstunden Wärme, weil der größte Teil der Energie aus der Umgebung stammt. Dieses Verhältnis wird über das Jahr gemittelt als Jahresarbeitszahl bezeichnet. Sie ist umso besser, je kleiner der Temperaturunterschied ist, den die Pumpe überwinden muss.

Daraus folgt eine praktische Regel: Wärmepumpen arbeiten besonders effizient mit niedrigen Vorlauftemperaturen, wie sie Fußbodenheizungen oder große Heizkörper ermöglichen. Auch in älteren Häusern können sie sinnvoll sein, wenn einzelne Heizkörper vergrößert oder Fenster und Dach besser gedämmt werden. Erdwärmepumpen sind teurer in der Anschaffung, weil Bohrungen oder Erdkollektoren nötig sind, arbeiten aber im Winter effizienter, da der Boden in einigen Metern Tiefe das ganze Jahr über etwa gleich warm bleibt.

Im Sommer lässt sich der Kreislauf bei vielen Geräten sogar umkehren. Dann wird aus der Heizung eine sanfte Kühlung – ein Nebeneffekt, der in heißen Sommern immer mehr geschätzt wird.
""",
)

ARTICLES["bodensee"] = dict(
    lang="de",
    site="radreise",
    title="Mit dem Fahrrad rund um den Bodensee",
    author="Lena Vogt",
    date="19. Juni 2025",
    body="""
Der Bodensee-Radweg gehört zu den beliebtesten Radfernwegen Europas, und das aus gutem Grund. Auf rund 260 Kilometern führt er durch drei Länder, fast immer in Sichtweite des Wassers, vorbei an Obstgärten, Weinbergen, Schilfufern und alten Städten. Steigungen gibt es kaum, sodass die Runde auch für Familien und ungeübte Radlerinnen und Radler gut zu schaffen ist.

Wir sind im Frühsommer in Konstanz gestartet und im Uhrzeigersinn gefahren. Die ersten Kilometer am Schweizer Ufer sind ruhig: kleine Dörfer, Fischerboote, Gemüsefelder, und immer wieder der Blick hinüber auf das deutsche Ufer. In Romanshorn und Rorschach lohnt sich eine Pause am Hafen, bevor der Weg über das flache Rheindelta nach Österreich führt. Dort mündet der Rhein in den See, und in dem weiten Naturschutzgebiet lassen sich mit etwas Glück zahlreiche Wasservögel beobachten.

Bregenz mit seiner Seebühne ist der perfekte Ort für eine Übernachtung. Am nächsten Morgen ging es weiter nach Lindau, dessen Altstadt auf einer Insel liegt und über einen Damm erreichbar ist. Zwischen Lindau und Friedrichshafen wird es etwas belebter, denn hier teilt sich der Radweg an einigen Stellen die Strecke mit Autos. Dafür entschädigen die Apfelplantagen und kleinen Hofläden, an denen man frischen Saft und Obst kaufen kann.

Der nördliche Teil des Sees ist landschaftlich vielleicht der schönste. Hinter Meersburg mit seiner Burg über dem Ufer führt der Weg durch Weinberge zur Wallfahrtskirche Birnau und weiter nach Überlingen. Wer die Runde abkürzen möchte, kann von Meersburg aus die Fähre nach Konstanz nehmen, die das ganze Jahr über regelmäßig verkehrt.

Ein paar Tipps zum Schluss: Im Juli und August ist der Weg sehr voll, Frühjahr und Herbst sind angenehmer. Unterkünfte sollte man vorab buchen, vor allem am Wochenende. Und da der Weg drei Länder durchquert, lohnt es sich, neben Euro auch ein paar Schweizer Franken dabeizuhaben. Für die ganze Runde sollte man vier bis fünf gemütliche Tage einplanen, damit genug Zeit zum Baden, Schauen und Einkehren bleibt.
""",
)

# ----------------------------------------------------------------------------------------------------------------
# French. "patebrisee" declares no charset anywhere (UTF-8 bytes; the reader has to detect it).
# ----------------------------------------------------------------------------------------------------------------

ARTICLES["cycleeau"] = dict(
    lang="fr",
    site="savoirs",
    title="Le cycle de l'eau expliqué simplement",
    author="Camille Durand",
    date="10 mai 2025",
    body="""
L'eau que vous buvez ce matin a peut-être déjà traversé un nuage au-dessus de l'océan, ruisselé sur le flanc d'une montagne ou séjourné des siècles dans une nappe souterraine. Sur Terre, la quantité totale d'eau change très peu : elle circule sans cesse entre l'océan, l'atmosphère, les sols et les êtres vivants. Ce voyage permanent porte un nom, le cycle de l'eau.

Tout commence par l'évaporation. Chauffée par le soleil, l'eau de surface des océans, des lacs et des rivières se transforme en vapeur et s'élève dans l'air. Les plantes participent aussi à ce mouvement : elles puisent l'eau du sol par leurs racines et en rejettent une grande partie par leurs feuilles, un phénomène appelé transpiration. Ensemble, ces deux processus envoient chaque année dans l'atmosphère des centaines de milliers de kilomètres cubes d'eau.

En montant, l'air se refroidit. La vapeur qu'il contient se condense alors autour de minuscules particules de poussière ou de sel et forme des gouttelettes très fines. Des milliards de ces gouttelettes rassemblées composent les nuages. Lorsque les gouttes grossissent au point de devenir trop lourdes pour rester en suspension, elles tombent : ce sont les précipitations, sous forme de pluie, de neige ou de grêle selon la température.

Une fois au sol, l'eau suit plusieurs chemins. Une partie ruisselle en surface et rejoint les ruisseaux, puis les fleuves, qui la ramènent vers la mer. Une autre s'infiltre dans le sol et alimente les nappes phréatiques, où elle peut rester quelques jours ou plusieurs milliers d'années. En montagne et près des pôles, une part importante est stockée pendant longtemps sous forme de neige et de glace avant de fondre au printemps.

Le cycle de l'eau joue un rôle essentiel dans le climat. En s'évaporant, l'eau absorbe de la chaleur, qu'elle libère en se condensant dans les nuages ; elle transporte ainsi de l'énergie des régions chaudes vers les régions plus froides. Les nuages, de leur côté, renvoient une partie de la lumière du soleil vers l'espace tout en retenant la chaleur émise par la Terre.

Les activités humaines modifient ce cycle de plusieurs façons. Les barrages, l'irrigation et le pompage des nappes déplacent d'énormes volumes d'eau. Le bétonnage des villes empêche la pluie de s'infiltrer et accentue les inondations. Et le réchauffement du climat augmente l'évaporation, ce qui rend les pluies intenses plus fréquentes dans certaines régions et les sécheresses plus longues dans d'autres. Comprendre ce cycle, c'est donc mieux comprendre d'où vient l'eau que nous utilisons chaque jour et comment la préserver.
""",
)

ARTICLES["canalmidi"] = dict(
    lang="fr",
    site="savoirs",
    title="Petite histoire du canal du Midi",
    author="Julien Marchand",
    date="2 avril 2025",
    body="""
Relier l'Atlantique à la Méditerranée sans contourner la péninsule Ibérique : ce rêve a occupé les esprits pendant des siècles. Le voyage par mer était long, coûteux et dangereux, exposé aux tempêtes comme aux pirates. Plusieurs projets de canal à travers le sud de la France avaient été imaginés, mais tous butaient sur le même problème : comment alimenter en eau un canal qui doit franchir une ligne de partage des eaux ?

La solution vint de Pierre-Paul Riquet, un homme d'affaires de Béziers chargé de la collecte de l'impôt sur le sel. Passionné par ce projet, il étudia pendant des années les ruisseaux de la Montagne Noire et comprit qu'il était possible de capter leurs eaux et de les conduire jusqu'au seuil de Naurouze, le point le plus haut du tracé. De là, l'eau pouvait s'écouler d'un côté vers l'ouest et de l'autre vers l'est.

Le chantier, autorisé par Louis XIV en 1666, fut immense. Pendant environ quinze ans, jusqu'à douze mille ouvriers, hommes et femmes, creusèrent le canal à la pelle et à la pioche. Il fallut construire un grand réservoir, des dizaines d'écluses, des ponts, des aqueducs et même un tunnel. Riquet engagea une grande partie de sa fortune personnelle dans l'entreprise et mourut quelques mois avant l'inauguration, en 1681.

Long de plus de deux cents kilomètres entre Toulouse et l'étang de Thau, le canal devint rapidement une voie commerciale importante pour le blé, le vin et bien d'autres marchandises. Des barques tirées par des chevaux y transportaient aussi des voyageurs. Avec l'arrivée du chemin de fer au XIXe siècle, son rôle économique déclina peu à peu.

Aujourd'hui, le canal du Midi est inscrit au patrimoine mondial de l'UNESCO. Les péniches de marchandises ont laissé place aux bateaux de plaisance, et ses berges bordées d'arbres attirent cyclistes et promeneurs. Les platanes qui faisaient sa célébrité, atteints par une maladie, sont progressivement remplacés par d'autres essences, mais le charme de cette voie d'eau paisible demeure intact.
""",
)

ARTICLES["patebrisee"] = dict(
    lang="fr",
    site="cuisinefr",
    title="Réussir une pâte brisée maison",
    author="Élodie Garnier",
    date="25 février 2025",
    http_charset=None,
    meta_charset=None,
    body="""
La pâte brisée est la base de nombreuses recettes de la cuisine française, des quiches aux tartes aux fruits. Elle est simple à préparer, ne demande que quelques ingrédients et se conserve bien. Pourtant, beaucoup de cuisiniers amateurs préfèrent l'acheter toute faite, par peur de la rater. Avec quelques principes en tête, elle devient pourtant un jeu d'enfant.

Pour une tarte de vingt-quatre centimètres, il faut environ deux cents grammes de farine, cent grammes de beurre froid coupé en dés, une pincée de sel et quatre à cinq cuillères à soupe d'eau très froide. Certains ajoutent un jaune d'œuf pour une pâte plus riche, ou une cuillère de sucre pour une tarte sucrée.

Le secret tient en un mot : le froid. Le beurre doit rester en petits morceaux dans la farine, sans fondre. On le sable du bout des doigts avec la farine et le sel, rapidement, jusqu'à obtenir une texture de chapelure grossière. On ajoute ensuite l'eau petit à petit et on rassemble la pâte en boule sans la travailler davantage. Trop pétrie, elle développe le gluten de la farine et devient élastique et dure après la cuisson.

Avant de l'étaler, la pâte doit reposer au moins trente minutes au réfrigérateur, enveloppée dans un film ou un torchon. Ce repos permet au beurre de se raffermir et au gluten de se détendre, ce qui évite que la pâte ne se rétracte dans le moule. On l'étale ensuite sur un plan de travail légèrement fariné, en tournant régulièrement le disque d'un quart de tour.

Pour une tarte aux fruits juteux ou une quiche, il est conseillé de cuire la pâte à blanc : on la pique à la fourchette, on la recouvre de papier cuisson et de légumes secs, puis on l'enfourne une quinzaine de minutes à environ cent quatre-vingts degrés. Le fond reste ainsi croustillant même sous une garniture humide. La pâte crue se garde deux jours au réfrigérateur et plusieurs mois au congélateur : de quoi improviser une tarte en un rien de temps.
""",
)

ARTICLES["velo"] = dict(
    lang="fr",
    site="cuisinefr",
    title="Se déplacer à vélo en ville : conseils pratiques",
    author="Julien Marchand",
    date="14 septembre 2024",
    body="""
Dans de nombreuses villes, le vélo est redevenu un moyen de transport à part entière. Pour les trajets de quelques kilomètres, il est souvent plus rapide que la voiture, qui doit chercher une place, et plus souple que les transports en commun. Il permet aussi de faire un peu d'exercice sans y consacrer de temps supplémentaire. Encore faut-il se sentir à l'aise au milieu de la circulation.

Le choix du vélo compte. Pour la ville, un modèle robuste avec garde-boue, porte-bagages et éclairage intégré est plus pratique qu'un vélo de course. Les vélos à assistance électrique ont changé la donne pour ceux qui habitent sur une colline ou qui doivent parcourir de plus longues distances : ils permettent d'arriver au travail sans être en sueur. Quel que soit le modèle, un bon antivol en U est indispensable, car le vol reste l'un des premiers freins à l'usage du vélo.

Sur la route, la règle d'or est d'être visible et prévisible. Il vaut mieux rouler à environ un mètre du trottoir et des voitures en stationnement, pour éviter les portières qui s'ouvrent brusquement. On indique ses changements de direction avec le bras, on établit un contact visuel avec les automobilistes aux carrefours, et on ne se place jamais dans l'angle mort d'un camion ou d'un bus. La nuit, les lumières avant et arrière sont obligatoires, et un gilet réfléchissant est fortement recommandé.

Pour préparer un itinéraire, les applications de cartographie proposent souvent des trajets adaptés aux cyclistes, qui privilégient les pistes cyclables et les rues calmes, quitte à allonger un peu le parcours. Il est utile de tester le trajet un week-end, sans contrainte d'horaire, avant de l'emprunter pour aller au travail.

Enfin, un minimum d'entretien évite bien des tracas : vérifier la pression des pneus chaque semaine, huiler la chaîne de temps en temps et contrôler les freins. Avec un vélo en bon état et quelques bons réflexes, beaucoup découvrent que la ville se parcourt plus facilement qu'ils ne l'imaginaient.
""",
)

# ----------------------------------------------------------------------------------------------------------------
# Spanish.
# ----------------------------------------------------------------------------------------------------------------

ARTICLES["chocolate"] = dict(
    lang="es",
    site="saberes",
    title="Breve historia del chocolate",
    author="Lucía Fernández",
    date="7 de marzo de 2025",
    body="""
Mucho antes de convertirse en tabletas y bombones, el chocolate era una bebida amarga y espumosa que se tomaba en Mesoamérica. Los pueblos de la región cultivaban el árbol del cacao desde hacía miles de años, y tanto los mayas como los mexicas apreciaban sus semillas hasta el punto de usarlas como moneda. La bebida se preparaba moliendo las semillas tostadas y mezclándolas con agua, maíz, chile y otras especias, y se vertía de un recipiente a otro desde cierta altura para formar espuma.

Los españoles conocieron el cacao en el siglo XVI. Al principio la bebida no les pareció muy atractiva, pero pronto comenzaron a prepararla a su manera, caliente y endulzada con azúcar, canela y vainilla. En esa forma se puso de moda en la corte española y, desde allí, se extendió por Europa a lo largo del siglo XVII. Durante mucho tiempo fue un lujo reservado a las clases acomodadas, y en algunas ciudades surgieron establecimientos dedicados exclusivamente a servirla.

La gran transformación llegó con la industria. A comienzos del siglo XIX se inventó una prensa capaz de separar la manteca de cacao del resto de la semilla, lo que permitió obtener cacao en polvo más fácil de disolver. Poco después, varios fabricantes descubrieron que, al añadir de nuevo manteca de cacao a la pasta, se podía moldear una tableta sólida. Más tarde se desarrollaron el chocolate con leche y el conchado, un proceso de batido prolongado que da al chocolate su textura suave.

Hoy el cacao se cultiva sobre todo en África occidental, aunque América Latina sigue produciendo algunas de las variedades más apreciadas. Se trata de un cultivo delicado, que necesita calor, humedad y sombra, y del que dependen millones de pequeños agricultores. En los últimos años ha crecido el interés por conocer el origen del cacao y las condiciones en que se produce, así como por los chocolates con un alto porcentaje de cacao, más cercanos en sabor a aquella bebida amarga de la antigüedad.
""",
)

ARTICLES["volcanes"] = dict(
    lang="es",
    site="saberes",
    title="Cómo se forman los volcanes",
    author="Diego Morales",
    date="19 de enero de 2025",
    body="""
Un volcán es, en esencia, una abertura en la corteza terrestre por la que sale material fundido del interior del planeta. Bajo nuestros pies, a decenas de kilómetros de profundidad, la temperatura es tan alta que algunas rocas se funden parcialmente y forman magma. Como es menos denso que la roca que lo rodea, el magma tiende a ascender lentamente, acumulándose en cámaras situadas a pocos kilómetros de la superficie.

La mayoría de los volcanes se encuentran en los bordes de las placas tectónicas, los grandes fragmentos en que está dividida la corteza. En las dorsales oceánicas, donde dos placas se separan, el magma sube para rellenar el hueco y forma nuevo fondo marino. En las zonas de subducción, donde una placa se hunde bajo otra, el agua que arrastra la placa que desciende facilita la fusión de las rocas, y se forman cadenas de volcanes como las que rodean el océano Pacífico. Otros volcanes, como los de Hawái, se sitúan en puntos calientes, lejos de los bordes de las placas.

No todas las erupciones son iguales. Cuando el magma es fluido y contiene pocos gases, la lava sale de forma relativamente tranquila y recorre largas distancias, formando volcanes de laderas suaves. Si el magma es viscoso y rico en gases, estos no pueden escapar con facilidad y la presión aumenta hasta provocar explosiones violentas que lanzan ceniza y fragmentos de roca a gran altura.

Los volcanes suponen un riesgo para millones de personas, pero también aportan beneficios. Los suelos volcánicos son muy fértiles, la energía geotérmica permite producir electricidad y calefacción, y muchas islas existen gracias a la actividad volcánica, como las Canarias. Por eso los científicos vigilan de cerca los volcanes activos, midiendo los pequeños terremotos, las deformaciones del terreno y los gases que emiten. Estas señales no permiten predecir una erupción con exactitud, pero sí dar avisos con tiempo suficiente para proteger a la población.
""",
)

ARTICLES["gazpacho"] = dict(
    lang="es",
    site="cocina",
    title="Gazpacho andaluz paso a paso",
    author="Carmen Ruiz",
    date="2 de julio de 2025",
    body="""
Pocas recetas resumen tan bien el verano del sur de España como el gazpacho. Es una sopa fría, fresca y nutritiva que se prepara sin fuego, con ingredientes sencillos de la huerta. Su origen es humilde: los trabajadores del campo lo elaboraban con pan duro, aceite, vinagre, ajo y agua, y con el tiempo se incorporaron el tomate y el pimiento, llegados de América.

Para cuatro personas se necesita aproximadamente un kilo de tomates muy maduros, un pimiento verde, medio pepino, un diente de ajo, un trozo de pan del día anterior, unos cien mililitros de buen aceite de oliva virgen extra, un chorro de vinagre de Jerez y sal. La calidad del tomate es lo más importante: debe ser sabroso y estar en su punto, porque es el alma del plato.

Se empieza remojando el pan en un poco de agua. Mientras tanto, se lavan y trocean los tomates, el pimiento y el pepino pelado, y se pela el ajo, quitándole el germen para que no repita. Todo se tritura junto con el pan escurrido hasta obtener una crema fina. Después, con la batidora en marcha, se añade el aceite en un hilo fino para que emulsione, y se sazona con sal y vinagre al gusto.

Muchos cocineros pasan el gazpacho por un colador para eliminar pieles y semillas y conseguir una textura más sedosa. Si queda demasiado espeso, se puede aligerar con un poco de agua fría. Lo fundamental es dejarlo reposar en la nevera al menos un par de horas, porque debe servirse bien frío.

Se puede tomar en vaso, como bebida refrescante, o en cuenco, acompañado de pequeños dados de pepino, pimiento, cebolla, huevo duro o pan tostado. Cada familia tiene su propia versión, con más o menos ajo o vinagre, y todas defienden que la suya es la auténtica. Lo cierto es que, en un día caluroso, pocas cosas sientan mejor.
""",
)

# ----------------------------------------------------------------------------------------------------------------
# Other languages: Italian, Dutch, Portuguese, Japanese, Russian (windows-1251, declared in the HTTP header only).
# ----------------------------------------------------------------------------------------------------------------

ARTICLES["pastafresca"] = dict(
    lang="it",
    site="cucinait",
    title="La pasta fresca fatta in casa",
    author="Giulia Rinaldi",
    date="16 marzo 2025",
    body="""
In molte famiglie italiane la domenica mattina ha un suono preciso: quello del mattarello che scorre sulla spianatoia. Preparare la pasta fresca in casa è un gesto antico, tramandato di generazione in generazione, e richiede pochissimi ingredienti. Bastano farina, uova e un po' di pazienza.

La regola tradizionale dell'Emilia-Romagna è semplice da ricordare: un uovo ogni cento grammi di farina. Si usa di solito una farina di grano tenero tipo 00, a volte mescolata con un po' di semola di grano duro per dare più consistenza. Si versa la farina sulla spianatoia formando una fontana, si rompono le uova al centro e, con una forchetta, si sbattono incorporando poco alla volta la farina dai bordi.

Quando l'impasto comincia a stare insieme, si lavora con le mani per circa dieci minuti, spingendo con il palmo e ripiegando, finché diventa liscio ed elastico. Se è troppo appiccicoso si aggiunge un pizzico di farina; se si sbriciola, si inumidiscono leggermente le mani. A questo punto la pasta va avvolta in un canovaccio o nella pellicola e lasciata riposare almeno mezz'ora, così il glutine si rilassa e la sfoglia sarà più facile da tirare.

Tirare la sfoglia con il mattarello è l'arte vera e propria. Si stende la pasta partendo dal centro, girandola spesso, fino a ottenere un foglio così sottile da lasciare intravedere il disegno del legno sottostante. Chi non ha esperienza può aiutarsi con una macchina per la pasta, passando l'impasto tra i rulli più volte e riducendo lo spessore a ogni passaggio.

Dalla stessa sfoglia nascono forme diverse: arrotolata e tagliata a strisce diventa tagliatelle o pappardelle, tagliata a quadrati si trasforma in maltagliati, farcita e chiusa dà vita a ravioli e tortellini. La pasta fresca cuoce in pochi minuti in abbondante acqua salata e si sposa con condimenti semplici, come burro e salvia o un ragù cotto a lungo. Il risultato ripaga ampiamente la fatica.
""",
)

ARTICLES["zeespiegel"] = dict(
    lang="nl",
    site="kennisnl",
    title="Leven onder de zeespiegel",
    author="Pieter de Vries",
    date="28 januari 2025",
    body="""
Ongeveer een kwart van Nederland ligt onder de zeespiegel, en zonder dijken, duinen en pompen zou een groot deel van het land regelmatig onder water staan. Toch wonen juist in dat lage westen de meeste mensen. Het verhaal van hoe dat mogelijk is, gaat eeuwen terug en is nog lang niet afgelopen.

Al in de middeleeuwen begonnen bewoners van de kustgebieden met het opwerpen van terpen, heuvels waarop ze hun huizen bouwden. Later legden ze dijken aan rond hun land en groeven ze sloten om het water af te voeren. Het gevolg was onverwacht: de drooggelegde veengrond klonk in en zakte steeds verder weg, zodat het land lager kwam te liggen dan het water eromheen.

Om het overtollige water kwijt te raken, werden windmolens ingezet. Ze pompten het water trapsgewijs omhoog naar hoger gelegen boezems en kanalen, en van daaruit naar de rivieren en de zee. Met rijen molens werden hele meren drooggemalen en veranderd in vruchtbare polders. Later namen stoomgemalen en daarna elektrische en dieselgemalen dit werk over, maar het principe bleef hetzelfde.

De zee bleef echter een bedreiging. Na de watersnoodramp van 1953, waarbij in het zuidwesten van het land meer dan achttienhonderd mensen omkwamen, werd besloten de kust drastisch te versterken. De Deltawerken, een reeks dammen, sluizen en stormvloedkeringen, sloten de meeste zeearmen af. De beroemdste is de Oosterscheldekering, die normaal open staat zodat het getij vrij kan in- en uitstromen, maar bij zware storm binnen korte tijd kan worden gesloten.

Tegenwoordig is waterbeheer in Nederland een zaak van waterschappen, een van de oudste bestuursvormen van het land. Door de zeespiegelstijging en extreme regenval zoekt men steeds vaker naar oplossingen die met het water meebewegen in plaats van ertegen te vechten: rivieren krijgen meer ruimte om te overstromen, stranden worden met zand opgespoten en in steden worden pleinen aangelegd die bij hevige buien tijdelijk water kunnen opvangen.
""",
)

ARTICLES["cafebrasil"] = dict(
    lang="pt",
    site="saberpt",
    title="O café e a história do Brasil",
    author="Rafael Costa",
    date="12 de agosto de 2024",
    body="""
Poucas plantas marcaram tanto a história de um país como o café marcou a do Brasil. Originário das terras altas da Etiópia, o cafeeiro chegou ao norte do Brasil no início do século XVIII e, algumas décadas depois, começou a ser cultivado na região do Rio de Janeiro. O clima e o solo revelaram-se ideais, e no século XIX o país tornou-se o maior produtor mundial, posição que mantém até hoje.

A expansão do café transformou a paisagem. Grandes fazendas avançaram pelo vale do rio Paraíba e depois pelo interior de São Paulo, derrubando extensas áreas de mata atlântica. Durante décadas, o trabalho nas plantações foi realizado por pessoas escravizadas, uma das faces mais sombrias desta história. Após a abolição da escravatura, em 1888, milhões de imigrantes europeus e, mais tarde, japoneses chegaram para trabalhar nos cafezais, mudando profundamente a composição da população.

O dinheiro do café financiou ferrovias, portos e o crescimento das cidades. São Paulo, que no início do século XIX era uma cidade modesta, transformou-se num grande centro econômico. A influência dos produtores de café na política foi tão grande que um período da história republicana ficou conhecido pela aliança entre os interesses do café e os da pecuária.

Hoje o café brasileiro é cultivado em vários estados, sobretudo em Minas Gerais, e vai desde grandes volumes destinados à indústria até cafés especiais produzidos em pequenas propriedades, avaliados com o mesmo cuidado que se dedica aos vinhos. A colheita, feita à mão ou com máquinas, é seguida pela secagem dos grãos ao sol ou em secadores, e por uma torra que define grande parte do sabor final. Cada etapa influencia o resultado na xícara, e os produtores mais cuidadosos acompanham de perto a maturação dos frutos, escolhendo o momento certo para colher.

No dia a dia dos brasileiros, o café continua presente em todo lugar: o cafezinho oferecido às visitas, servido em pequenas xícaras, é um gesto de hospitalidade tão comum que quase passa despercebido. Nas padarias, nos escritórios e nas casas, é difícil imaginar uma manhã sem ele.
""",
)

ARTICLES["ryokucha"] = dict(
    lang="ja",
    site="nihon",
    title="緑茶をおいしく淹れるコツ",
    author="佐藤 美咲",
    date="2025年4月20日",
    body="""
日本で毎日のように飲まれている緑茶は、ほんの少しの工夫で味が大きく変わる飲み物です。同じ茶葉を使っても、お湯の温度や浸す時間が違うだけで、甘みが引き立ったり、逆に渋みばかりが目立ったりします。ここでは、家庭で煎茶をおいしく淹れるための基本を紹介します。

まず大切なのはお湯の温度です。沸騰したばかりのお湯をそのまま注ぐと、渋みの成分であるカテキンが多く溶け出してしまいます。上級の煎茶なら七十度前後、普段飲む煎茶なら八十度くらいが目安です。沸かしたお湯を一度湯のみに移し、それから急須に戻すと、温度が十度ほど下がります。同時に湯のみも温まるので一石二鳥です。

茶葉の量は、一人分でおよそ二グラム、ティースプーン一杯程度が基本です。急須にお湯を注いだら、ふたをして一分ほど待ちます。深蒸し茶の場合は茶葉が細かいので、三十秒ほどで十分です。待っている間は急須を揺すらないようにしましょう。揺すると雑味が出やすくなります。

湯のみに注ぐときは、数人分を少しずつ順番に注ぎ分けて、濃さが均一になるようにします。そして最後の一滴まで注ぎ切ることが重要です。最後の一滴にはうまみが凝縮されているうえ、急須にお湯が残っていると二煎目の味が落ちてしまうからです。

二煎目は、一煎目よりも少し熱いお湯を使い、待ち時間は短くします。茶葉はすでに開いているので、すぐに味が出ます。三煎目まで楽しめる茶葉も少なくありません。季節によっては、水出しもおすすめです。冷たい水に茶葉を入れて冷蔵庫で数時間置くと、渋みが少なく、まろやかで甘い緑茶ができあがります。

緑茶は、産地や品種、製法によって香りも味わいもさまざまです。いくつかの茶葉を飲み比べて、自分の好みの一杯を見つけてみてはいかがでしょうか。
""",
)

ARTICLES["baikal"] = dict(
    lang="ru",
    site="priroda",
    title="Байкал — самое глубокое озеро планеты",
    author="Анна Соколова",
    date="3 сентября 2024",
    charset="windows-1251",
    http_charset="windows-1251",
    meta_charset=None,
    body="""
Байкал называют жемчужиной Сибири, и это не преувеличение. Озеро вытянулось почти на шестьсот километров с юго-запада на северо-восток, а его наибольшая глубина превышает тысячу шестьсот метров. Это самое глубокое озеро на Земле и одно из самых древних: учёные считают, что его возраст составляет около двадцати пяти миллионов лет. В Байкале содержится примерно пятая часть всей пресной воды, находящейся в озёрах и реках планеты.

Озеро лежит в огромной впадине земной коры, которая продолжает медленно расширяться. Поэтому в этих местах нередки землетрясения, а берега местами поднимаются крутыми скалами прямо из воды. В Байкал впадают сотни рек и ручьёв, а вытекает только одна река — Ангара.

Вода Байкала удивительно прозрачна: в ясную погоду камни на дне видны на глубине нескольких десятков метров. Зимой озеро покрывается толстым льдом, настолько чистым, что сквозь него можно разглядеть пузырьки воздуха и трещины, уходящие вглубь. В это время по льду прокладывают дороги, а туристы приезжают специально, чтобы увидеть ледяные гроты и торосы.

Долгая изоляция сделала Байкал настоящей природной лабораторией. Здесь обитают тысячи видов растений и животных, и большая часть из них не встречается больше нигде на Земле. Самый известный местный житель — байкальская нерпа, единственный тюлень, живущий только в пресной воде. Учёные до сих пор спорят о том, как её предки попали в озеро, расположенное так далеко от океана. Важную роль в очищении воды играет крошечный рачок эпишура, который фильтрует огромные объёмы воды.

Лучшее время для поездки на Байкал зависит от целей путешественника. Летом можно ходить в походы по Большой Байкальской тропе, плавать на кораблике вдоль берегов и купаться в тёплых заливах, хотя вода в самом озере даже в августе остаётся холодной. Зимой, в феврале и марте, сюда приезжают ради прозрачного льда и катания на коньках. В любое время года стоит помнить, что погода здесь меняется быстро, а ветры бывают очень сильными.

Уникальная экосистема озера уязвима. Сточные воды, неконтролируемый туризм и изменения климата представляют для неё серьёзную угрозу. С 1996 года Байкал входит в список объектов Всемирного наследия ЮНЕСКО, и многие люди, живущие на его берегах, прилагают усилия, чтобы сохранить озеро для будущих поколений.
""",
)

# ----------------------------------------------------------------------------------------------------------------
# Special good pages: a programming tutorial, a maths explanation, a page with PII, an adult-sounding domain.
# ----------------------------------------------------------------------------------------------------------------

ARTICLES["wordcount"] = dict(
    lang="en",
    site="techweekly",
    category="code",
    title="Counting Words in a Text File with Python",
    author="Mei Lin Tan",
    date="5 May 2025",
    body="""
Counting how often each word appears in a piece of text is a classic first exercise in any programming language. It touches on reading files, cleaning up strings, using a dictionary and sorting the results, and the finished program is genuinely useful for exploring a book, a set of notes or a log file. This tutorial builds a small word counter in Python in three steps.

## Step 1: read the file and split it into words

The simplest approach reads the whole file into memory, converts it to lower case so that "The" and "the" are counted together, and uses a regular expression to pull out runs of letters. Apostrophes are kept so that words such as "don't" stay in one piece.

```
import re

def read_words(path):
    with open(path, encoding="utf-8") as f:
        text = f.read().lower()
    return re.findall(r"[a-z']+", text)
```

## Step 2: count them

The standard library already contains the right tool. A Counter is a dictionary that maps each item to the number of times it has been seen, and its most_common method returns the items sorted by frequency.

```
from collections import Counter

def count_words(path):
    return Counter(read_words(path))

counts = count_words("book.txt")
for word, n in counts.most_common(10):
    print(f"{word:>12} {n}")
```

## Step 3: ignore the boring words

The top of the list will almost certainly be filled with words such as "the", "and" and "of". These are called stop words, and for most purposes it is more interesting to leave them out. A set makes the membership test fast.

```
STOP_WORDS = {"the", "and", "of", "to", "a", "in", "is", "it", "that", "was"}

def interesting_counts(path):
    return Counter(w for w in read_words(path) if w not in STOP_WORDS)
```

Reading the whole file at once is fine for books and articles, but for files of many gigabytes it is better to process one line at a time, updating the counter as you go. The function then uses a fixed amount of memory no matter how large the input is. From here it is a short step to comparing the vocabulary of two authors, finding the words that appear only once, or plotting how the frequency of a word changes from chapter to chapter.
""",
)

ARTICLES["geometric"] = dict(
    lang="en",
    site="curious",
    category="math",
    title="The Sum of a Geometric Series",
    author="Ruth Adeyemi",
    date="17 March 2025",
    body=r"""
A geometric series is a sum in which each term is the previous one multiplied by a fixed number, called the common ratio. If the first term is a and the ratio is r, the first n terms are a, ar, ar², and so on up to ar to the power n − 1. Written in the notation of LaTeX, the sum is $S_n = a + ar + ar^2 + \dots + ar^{n-1} = \sum_{k=0}^{n-1} a r^k$.

There is a neat trick for finding a closed formula. Multiply the whole sum by r. Every term shifts one place to the right: $r S_n = ar + ar^2 + \dots + ar^{n}$. Now subtract this from the original sum. Almost everything cancels, leaving only the first term of the original and the last term of the shifted copy: $S_n - r S_n = a - ar^n$. Dividing both sides by 1 − r, which is allowed as long as r is not equal to one, gives the formula

<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><msub><mi>S</mi><mi>n</mi></msub><mo>=</mo><mi>a</mi><mfrac><mrow><mn>1</mn><mo>-</mo><msup><mi>r</mi><mi>n</mi></msup></mrow><mrow><mn>1</mn><mo>-</mo><mi>r</mi></mrow></mfrac></math>

or in plain notation S_n = a (1 − r^n) / (1 − r). When r equals one, every term is simply a, and the sum is n times a.

What happens if the series never stops? If the absolute value of r is less than one, the powers r^n shrink towards zero as n grows, and the partial sums settle down to a finite limit: $\sum_{k=0}^{\infty} a r^k = \frac{a}{1-r}$ for $|r| < 1$. If the absolute value of r is one or more, the terms do not shrink and the series has no finite sum.

The classic example is one half plus one quarter plus one eighth and so on. Here the first term is one half and the ratio is one half, so the sum is (1/2) / (1 − 1/2) = 1. You can picture this as cutting a cake: eat half, then half of what remains, then half of that, and after infinitely many bites you have eaten exactly one cake.

Geometric series turn up in many places. They give the total distance travelled by a ball that bounces to a fixed fraction of its previous height, the value of a loan repaid in equal instalments, and the decimal expansion of a repeating fraction: 0.333… is the geometric series 3/10 + 3/100 + 3/1000 + …, whose sum is (3/10) / (1 − 1/10) = 1/3.
""",
)

ARTICLES["allotment"] = dict(
    lang="en",
    site="allotment",
    category="pii",
    title="Spring Newsletter",
    author="Maria Keller",
    date="1 March 2025",
    body="""
Welcome back, everyone! After one of the wettest winters anyone on the committee can remember, the plots are finally drying out and the first broad beans are already poking through on the lower terraces. Thank you to all the members who turned up in January to clear the fallen willow by the gate; the path is open again and the wheelbarrows are back in the shed.

The annual seed swap will take place on Saturday 12 April from ten o'clock in the community hall. Bring any spare seeds in labelled envelopes, and please write the variety and the year they were saved. There will be tea, cake and the usual argument about the best way to grow leeks. If you would like a table to sell seedlings, email the secretary, Maria Keller, at maria.keller@example.org or leave a note in the shed. For urgent matters you can also call her on 0161 496 0732.

Plot inspections start in May. Half-worked plots are fine, but plots that have not been touched for a whole season will be offered to the waiting list, which currently has thirty-one names on it.

Finally, a note about the website. The booking calendar has moved to a small server that a member kindly runs for us. Until the new domain is set up, you can reach it directly at http://46.4.119.81/booking or by typing 46.4.119.81 into your browser. Your browser may show a security warning for now; this is expected and will go away once the domain is ready.
""",
)

ARTICLES["adult"] = dict(
    lang="en",
    site="adult",
    category="adult_url",
    title="Adults Only - Age Verification",
    author=None,
    date=None,
    body="""
This website contains material intended for adults only. You must be at least eighteen years old, or the age of majority in your place of residence, to enter.

By clicking Enter you confirm that you are of legal age and that viewing this content is lawful where you live. If you are under age or do not wish to view such material, please click Leave now.

<p class="age-gate"><a class="button" href="/enter">Enter</a> <a class="button" href="https://www.search.example/">Leave now</a></p>
""",
)

# ----------------------------------------------------------------------------------------------------------------
# Near duplicates: edits applied to an article's text. Each variant is served on another site with its own URL.
# replace: (old, new) pairs, each old string must occur exactly once; drop: indexes of blocks to remove;
# append: blocks added at the end; author: a different byline.
# ----------------------------------------------------------------------------------------------------------------

VARIANTS: dict[str, list[dict]] = {
    "tides": [
        dict(
            site="tidewater",
            author="Helen Marsh",
            replace=[
                (
                    "Fishermen and sailors have tracked this slow slide for thousands of years, long before anyone could "
                    "explain it.",
                    "Coastal communities kept track of this slow slide for generations, long before Newton offered an "
                    "explanation.",
                )
            ],
        ),
        dict(
            site="sciencemirror",
            drop=[5],
            replace=[
                (
                    "Anyone who has spent a full day on a beach knows that the sea does not stay put.",
                    "Spend a whole day by the sea and you will notice that the water never stays in one place.",
                )
            ],
        ),
    ],
    "pubkey": [
        dict(
            site="techdigest",
            author="Daniel Okafor and Sara Lind",
            append=[
                "In short, public-key cryptography lets strangers build trust over an open network, and it does so "
                "quietly, millions of times a second, every time someone loads a secure web page."
            ],
        ),
    ],
    "nighttrains": [
        dict(
            site="tidewater",
            replace=[
                ("Booking can be the most frustrating part.", "Booking is, admittedly, the weak spot."),
                (
                    "Breakfast, often a roll, jam and coffee, is typically brought to the compartment shortly before "
                    "arrival.",
                    "Most operators bring a simple breakfast of bread, jam and coffee to the compartment before arrival.",
                ),
            ],
        ),
    ],
    "cycleeau": [
        dict(
            site="cuisinefr",
            author="Camille Durand et Hugo Lefèvre",
            replace=[
                (
                    "En montagne et près des pôles, une part importante est stockée pendant longtemps sous forme de neige "
                    "et de glace avant de fondre au printemps.",
                    "Dans les montagnes, une grande partie de l'eau reste stockée tout l'hiver sous forme de neige avant "
                    "d'alimenter les rivières au printemps.",
                )
            ],
        ),
    ],
}

# ----------------------------------------------------------------------------------------------------------------
# Boilerplate-heavy pages: the page template adds the usual site chrome; these bodies add little or no text.
# ----------------------------------------------------------------------------------------------------------------

_HEADLINES = [
    "Ten quiet harbour towns worth a detour",
    "What to pack for a week of walking",
    "The best bakeries near the station",
    "A weekend in the hills without a car",
    "How to read a tide table",
    "Five islands you can reach by ferry",
    "Camping in spring: a checklist",
    "Street food on a budget",
    "Rainy day museums for families",
    "The slow road along the river",
    "Where to watch the sunrise",
    "Cycling routes for beginners",
    "A guide to mountain huts",
    "Packing light for long trips",
    "Local markets in autumn",
    "Winter swimming: is it for you?",
    "The old railway viaduct walk",
    "Picnic spots with a view",
    "How to plan a multi-day hike",
    "Birdwatching on the estuary",
    "Lakes you can walk around in a day",
    "The best viewpoints on the coast",
    "Travelling with a dog",
    "Off-season city breaks",
]

PAGES: list[dict] = []  # non-article pages: key, category, subcategory, lang, site, title, body, path

PAGES.append(
    dict(
        key="travel_index",
        category="boilerplate",
        subcategory="link_list",
        lang="en",
        site="slowtravel",
        title="Travel - All Articles",
        path="/category/travel/page/2/",
        body="## All travel articles\n\n"
        + "\n".join(
            f'- <a href="/travel/{i:03d}/">{h}</a> <span class="date">{(i % 28) + 1} May 2025</span>'
            for i, h in enumerate(_HEADLINES)
        )
        + '\n\n<p class="pager"><a href="/category/travel/">Newer</a> | '
        '<a href="/category/travel/page/3/">Older</a></p>',
    )
)

PAGES.append(
    dict(
        key="sitemap_de",
        category="boilerplate",
        subcategory="link_list",
        lang="de",
        site="radreise",
        title="Sitemap",
        path="/sitemap/",
        body="## Sitemap\n\n"
        + "\n".join(
            f'- <a href="/{s.lower()}/">{s}</a>'
            for s in [
                "Startseite",
                "Touren",
                "Bodensee",
                "Donau",
                "Elbe",
                "Mosel",
                "Rhein",
                "Ostsee",
                "Unterkünfte",
                "Fahrradverleih",
                "Karten",
                "Ausrüstung",
                "Pannenhilfe",
                "Newsletter",
                "Presse",
                "Impressum",
                "Datenschutz",
                "Kontakt",
                "Über uns",
                "Partner",
                "Gutscheine",
                "Anreise",
                "Wetter",
                "Häufige Fragen",
            ]
        ),
    )
)

PAGES.append(
    dict(
        key="cookiewall",
        category="cookie_wall",
        subcategory=None,
        lang="en",
        site="dailyplanet",
        title="Before you continue",
        path="/news/2025/06/council-budget-vote",
        chrome=False,
        body="""
<div class="consent-wall" role="dialog" aria-modal="true"><h2>We value your privacy</h2>
<p>We and our 214 partners store and access information on your device, such as cookies, and process personal data such as unique identifiers and browsing data for personalised advertising and content, advertising and content measurement, audience research and service development.</p>
<p>With your permission we and our partners may use precise geolocation data and identification through device scanning. You may click to consent to our and our partners' processing as described above. Alternatively you may access more detailed information and change your preferences before consenting or to refuse consenting.</p>
<p><button>Accept all</button> <button>Reject all</button> <button>Manage options</button> <a href="/privacy">Privacy policy</a> <a href="/partners">Vendor list</a></p></div>
""",
    )
)

PAGES.append(
    dict(
        key="soft404",
        category="soft_404",
        subcategory=None,
        lang="en",
        site="techweekly",
        title="Page not found",
        path="/2019/07/old-article-about-smartwatches.html",
        body="""
## 404 - Page not found

Oops! The page you are looking for might have been removed, had its name changed, or is temporarily unavailable.

- <a href="/">Go to the homepage</a>
- <a href="/search">Search the site</a>
- <a href="/contact">Report a broken link</a>
""",
    )
)

# ----------------------------------------------------------------------------------------------------------------
# Spam and low-quality pages.
# ----------------------------------------------------------------------------------------------------------------

PAGES.append(
    dict(
        key="seo_spam",
        category="spam",
        subcategory="keyword_stuffing",
        lang="en",
        site="cheapflights",
        title="Cheap Flights Cheap Flights Best Cheap Flights Deals Cheap Flights Online",
        path="/cheap-flights-deals/",
        body="""
Cheap flights cheap flights best cheap flights. Looking for cheap flights? Our cheap flights are the cheapest cheap flights online. Book cheap flights, cheap airline tickets, cheap air tickets and cheap flights deals today. Cheap flights to London, cheap flights to Paris, cheap flights to New York, cheap flights to anywhere.

Best cheap flights deals cheap flights discount flights last minute cheap flights. Cheap flights cheap hotels cheap car hire cheap flights. Why pay more for flights when you can get cheap flights? Cheap flights cheap flights cheap flights.

Cheap flights booking cheap flights compare cheap flights find cheap flights search cheap flights cheapest flights cheap flights now. Click here for cheap flights. Cheap flights!
""",
    )
)

PAGES.append(
    dict(
        key="repeated_lines",
        category="spam",
        subcategory="repeated_lines",
        lang="en",
        site="prizes",
        title="You are a winner!",
        path="/winner.php",
        body="\n\n".join(
            [
                "Congratulations! You have been selected to win a free smartphone.",
                "Click here to claim your prize now!",
                "This offer is valid today only.",
            ]
            * 15
        ),
    )
)

_PRODUCTS = [
    ("Stainless steel water bottle 750 ml", 12.99),
    ("Bamboo cutting board, large", 18.50),
    ("Cast iron skillet 26 cm", 34.00),
    ("Silicone baking mat (2 pack)", 9.95),
    ("Chef's knife 20 cm", 45.00),
    ("Glass storage jars, set of 6", 22.40),
    ("Wooden spoon set", 7.99),
    ("Enamel coffee pot 1 l", 29.90),
    ("Digital kitchen scale", 15.49),
    ("Linen tea towels (3)", 14.00),
    ("Ceramic mixing bowl", 19.95),
    ("Pepper mill, beech", 16.75),
    ("Oven gloves, heat resistant", 11.20),
    ("Cooling rack 40 x 25 cm", 8.60),
    ("Measuring cups and spoons", 10.30),
    ("Mortar and pestle, granite", 24.99),
    ("Salad spinner", 17.80),
    ("Rolling pin, maple", 13.45),
    ("Cake tin 24 cm springform", 12.10),
    ("Loaf tin, non-stick", 9.30),
    ("Whisk, balloon 30 cm", 6.50),
    ("Colander, stainless steel", 14.90),
    ("Grater, four-sided", 9.70),
    ("Garlic press", 8.25),
    ("Can opener, manual", 5.99),
    ("Ice cube trays (2)", 6.80),
    ("Butter dish with lid", 11.60),
    ("Egg timer, sand", 4.50),
    ("Kitchen scissors", 9.10),
    ("Apron, canvas", 21.00),
]
PAGES.append(
    dict(
        key="product_list",
        category="spam",
        subcategory="product_list",
        lang="en",
        site="shop",
        title="Kitchen - All Products",
        path="/c/kitchen?page=1&sort=price",
        body="\n".join(f'- {name} - ${price:.2f} <a href="/cart/add">Add to cart</a>' for name, price in _PRODUCTS),
    )
)

PAGES.append(
    dict(
        key="lorem",
        category="spam",
        subcategory="lorem_ipsum",
        lang="la",
        site="template",
        title="Sample Page",
        path="/sample-page/",
        body="""
Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.

Lorem ipsum dolor sit amet, consectetur adipiscing elit. Integer nec odio. Praesent libero. Sed cursus ante dapibus diam. Sed nisi. Nulla quis sem at nibh elementum imperdiet. Duis sagittis ipsum. Praesent mauris. Fusce nec tellus sed augue semper porta. Mauris massa. Vestibulum lacinia arcu eget nulla.

Class aptent taciti sociosqu ad litora torquent per conubia nostra, per inceptos himenaeos. Curabitur sodales ligula in libero. Sed dignissim lacinia nunc. Curabitur tortor. Pellentesque nibh. Aenean quam. In scelerisque sem at dolor. Maecenas mattis. Sed convallis tristique sem. Proin ut ligula vel nunc egestas porttitor.
""",
    )
)

PAGES.append(
    dict(
        key="all_caps",
        category="spam",
        subcategory="all_caps",
        lang="en",
        site="prizes",
        title="HUGE CLEARANCE SALE",
        path="/sale/",
        body="""
HUGE CLEARANCE SALE THIS WEEKEND ONLY! EVERYTHING MUST GO! UP TO 90% OFF ON ALL ITEMS IN STORE AND ONLINE!

DO NOT MISS THIS ONCE IN A LIFETIME OPPORTUNITY! PRICES HAVE NEVER BEEN THIS LOW! FURNITURE, ELECTRONICS, CLOTHING, TOYS AND MUCH MORE!

CALL NOW OR VISIT OUR WAREHOUSE! OPEN FROM 8 AM TO 10 PM! FREE PARKING! FREE DELIVERY ON ORDERS OVER 50 DOLLARS! HURRY WHILE STOCKS LAST!
""",
    )
)

PAGES.append(
    dict(
        key="javascript",
        category="spam",
        subcategory="javascript",
        lang="en",
        site="widgets",
        title="Loading...",
        path="/app/dashboard",
        body="""
This page requires JavaScript. Please enable JavaScript in your browser settings and reload the page.

<div class="noscript-dump">var config = {"apiBase": "/api/v2", "retries": 3, "features": {"darkMode": true, "beta": false}};<br>
function init(el) { if (!el) { return; } el.addEventListener("click", function (e) { e.preventDefault(); render({ id: el.dataset.id, mode: "full" }); }); }<br>
window.onload = function () { var nodes = document.querySelectorAll(".widget"); for (var i = 0; i &lt; nodes.length; i++) { init(nodes[i]); } };<br>
if (typeof module !== "undefined") { module.exports = { init: init, config: config }; }<br>
function render(opts) { return fetch(config.apiBase + "/items/" + opts.id).then(function (r) { return r.json(); }); }</div>

Loading your dashboard, please wait. If nothing happens, make sure JavaScript is enabled.
""",
    )
)

PAGES.append(
    dict(
        key="very_short",
        category="spam",
        subcategory="very_short",
        lang="en",
        site="template",
        title="Coming soon",
        path="/",
        chrome=False,
        body="Coming soon. Stay tuned!",
    )
)

# A question-and-answer thread (RedStone-QA): schema.org Question/Answer microdata as Q&A sites write it, with a
# code block in the question and votes / the accepted mark on the answers. Written for this project.
PAGES.append(
    dict(
        key="qa_sortkey",
        category="qa",
        subcategory="qapage_microdata",
        lang="en",
        site="techweekly",
        title="How do I sort a list of dictionaries by two keys in Python?",
        path="/questions/1042/sort-by-two-keys",
        body="""
<div itemscope itemtype="https://schema.org/QAPage">
<div class="question" itemprop="mainEntity" itemscope itemtype="https://schema.org/Question">
<h1 itemprop="name">How do I sort a list of dictionaries by two keys in Python?</h1>
<div class="post-body" itemprop="text">
<p>I have a list of club members, each a dictionary with a <code>surname</code> and an <code>age</code>. I want them ordered by surname, and members with the same surname ordered from oldest to youngest. This is what I have so far, but it only sorts by surname:</p>
<pre><code class="language-python">members = [
    {"surname": "Okafor", "age": 34},
    {"surname": "Berg", "age": 51},
    {"surname": "Okafor", "age": 62},
]
members.sort(key=lambda m: m["surname"])
</code></pre>
<p>How can I add the second key without writing my own comparison function?</p>
</div>
<span itemprop="answerCount" content="2"></span>
<div class="answer accepted-answer" itemprop="acceptedAnswer" itemscope itemtype="https://schema.org/Answer">
<span class="votes" itemprop="upvoteCount" content="27">27</span>
<div class="post-body" itemprop="text">
<p>Return a tuple from the key function. Tuples compare element by element, so the second value only matters when the first ones are equal. To get the ages in descending order, negate them, which works because ages are numbers:</p>
<pre><code class="language-python">members.sort(key=lambda m: (m["surname"], -m["age"]))
</code></pre>
<p>For keys that cannot be negated, such as strings, sort twice instead: first by the secondary key, then by the primary key. Python's sort is stable, so the second sort keeps the order of the first among equal surnames.</p>
</div>
</div>
<div class="answer" itemprop="suggestedAnswer" itemscope itemtype="https://schema.org/Answer">
<span class="votes" itemprop="upvoteCount" content="9">9</span>
<div class="post-body" itemprop="text">
<p>The <code>operator</code> module has a ready-made helper, <code>itemgetter</code>, which is a little faster than a lambda and reads well when both keys sort in the same direction:</p>
<pre><code class="language-python">from operator import itemgetter
members.sort(key=itemgetter("surname", "age"))
</code></pre>
<p>This sorts both keys in ascending order, so combine it with the two-pass trick from the accepted answer if you need the ages reversed.</p>
</div>
</div>
</div>
</div>
""",
    )
)

# ----------------------------------------------------------------------------------------------------------------
# RedStone pages: formulas as the common renderers write them (KaTeX, MathJax 2 and 3), a forum thread, and code in
# a highlighter's line-number table. Written for this project; the markup follows each tool's output.
# ----------------------------------------------------------------------------------------------------------------


def _katex(tex: str, mathml: str, glyphs: str, display: bool = False) -> str:
    """KaTeX's output: hidden MathML with the TeX source as an x-tex annotation, then the HTML it draws."""
    html = "".join(
        f'<span class="mord mathnormal">{g}</span>' if g.isalpha() else f'<span class="mbin">{g}</span>' for g in glyphs
    )
    out = (
        '<span class="katex"><span class="katex-mathml"><math xmlns="http://www.w3.org/1998/Math/MathML"'
        + (' display="block"' if display else "")
        + f'><semantics><mrow>{mathml}</mrow><annotation encoding="application/x-tex">{tex}</annotation></semantics></math></span>'
        + f'<span class="katex-html" aria-hidden="true"><span class="base"><span class="strut" style="height:0.8641em;"></span>{html}</span></span></span>'
    )
    return f'<span class="katex-display">{out}</span>' if display else out


_HALF_AB = _katex(
    r"\tfrac{1}{2}ab", "<mstyle scriptlevel='1'><mfrac><mn>1</mn><mn>2</mn></mfrac></mstyle><mi>a</mi><mi>b</mi>", "½ab"
)
_SQUARE_SUM = _katex(
    r"(a + b)^2 = c^2 + 4 \cdot \tfrac{1}{2}ab",
    "<mo stretchy='false'>(</mo><mi>a</mi><mo>+</mo><mi>b</mi><msup><mo stretchy='false'>)</mo><mn>2</mn></msup><mo>=</mo><msup><mi>c</mi><mn>2</mn></msup><mo>+</mo><mn>4</mn><mo>⋅</mo><mfrac><mn>1</mn><mn>2</mn></mfrac><mi>a</mi><mi>b</mi>",
    "(a+b)2=c2+4·½ab",
    display=True,
)

ARTICLES["pythagoras"] = dict(
    lang="en",
    site="numberline",
    category="math",
    subcategory="katex",
    head='<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/katex@0.16.11/dist/katex.min.css" crossorigin="anonymous">\n',
    title="Three Proofs of the Pythagorean Theorem",
    author="Ilse Marchetti",
    date="9 April 2025",
    body=f"""
<p>The theorem every school pupil meets says that in a right-angled triangle with legs {_katex("a", "<mi>a</mi>", "a")} and {_katex("b", "<mi>b</mi>", "b")} and hypotenuse {_katex("c", "<mi>c</mi>", "c")}, the squares on the legs add up to the square on the hypotenuse:</p>

<p>{_katex("a^2 + b^2 = c^2", "<msup><mi>a</mi><mn>2</mn></msup><mo>+</mo><msup><mi>b</mi><mn>2</mn></msup><mo>=</mo><msup><mi>c</mi><mn>2</mn></msup>", "a2+b2=c2", display=True)}</p>

## Rearranging squares

<p>Draw a large square with side {_katex("a + b", "<mi>a</mi><mo>+</mo><mi>b</mi>", "a+b")} and place four copies of the triangle inside it, one in each corner. The space left over is a tilted square with side {_katex("c", "<mi>c</mi>", "c")}. Now slide the triangles into two rectangles: the space left over is two squares, one of side {_katex("a", "<mi>a</mi>", "a")} and one of side {_katex("b", "<mi>b</mi>", "b")}. The large square and the four triangles did not change, so the leftover areas are equal.</p>

## Algebra

<p>The same picture gives a two-line calculation. The area of the large square is the tilted square plus four triangles, each of area {_HALF_AB}:</p>

<p>{_SQUARE_SUM}</p>

<p>Expanding the left side gives {_katex("a^2 + 2ab + b^2", "<msup><mi>a</mi><mn>2</mn></msup><mo>+</mo><mn>2</mn><mi>a</mi><mi>b</mi><mo>+</mo><msup><mi>b</mi><mn>2</mn></msup>", "a2+2ab+b2")}, and the terms in {_katex("ab", "<mi>a</mi><mi>b</mi>", "ab")} cancel on both sides, which leaves the theorem.</p>

## Similar triangles

<p>Drop the altitude from the right angle onto the hypotenuse. It cuts the triangle into two smaller triangles, each similar to the whole one. If the altitude divides the hypotenuse into pieces {_katex("p", "<mi>p</mi>", "p")} and {_katex("q", "<mi>q</mi>", "q")}, similarity gives {_katex("a^2 = cp", "<msup><mi>a</mi><mn>2</mn></msup><mo>=</mo><mi>c</mi><mi>p</mi>", "a2=cp")} and {_katex("b^2 = cq", "<msup><mi>b</mi><mn>2</mn></msup><mo>=</mo><mi>c</mi><mi>q</mi>", "b2=cq")}. Adding the two and using {_katex("p + q = c", "<mi>p</mi><mo>+</mo><mi>q</mi><mo>=</mo><mi>c</mi>", "p+q=c")} proves the theorem a third time, and this is the proof Euclid's later commentators liked best because it needs no rearranging at all.</p>
""",
)

ARTICLES["quadratic"] = dict(
    lang="en",
    site="calcclub",
    category="math",
    subcategory="mathjax2",
    head='<script type="text/javascript" async src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.9/MathJax.js?config=TeX-AMS_CHTML"></script>\n',
    title="Completing the Square, Step by Step",
    author="Dev Raman",
    date="22 May 2025",
    body=r"""
<p>Every quadratic equation <script type="math/tex">ax^2 + bx + c = 0</script> with <script type="math/tex">a \neq 0</script> can be solved by one idea: turn the left side into a perfect square plus a constant. This article walks through the steps and shows where the familiar formula comes from.</p>

<p>First divide by <script type="math/tex">a</script>, so that the square term has coefficient one:</p>

<p><script type="math/tex; mode=display">x^2 + \frac{b}{a}x + \frac{c}{a} = 0</script></p>

<p>A perfect square <script type="math/tex">(x + h)^2</script> expands to <script type="math/tex">x^2 + 2hx + h^2</script>, so the middle term matches when <script type="math/tex">h = \frac{b}{2a}</script>. Add and subtract <script type="math/tex">h^2</script>:</p>

<p><script type="math/tex; mode=display">\left(x + \frac{b}{2a}\right)^2 = \frac{b^2 - 4ac}{4a^2}</script></p>

<p>Taking square roots on both sides and moving the constant across gives the quadratic formula,</p>

<p><script type="math/tex; mode=display">x = \frac{-b \pm \sqrt{b^2 - 4ac}}{2a}</script></p>

<p>The expression under the root, the discriminant <script type="math/tex">\Delta = b^2 - 4ac</script>, decides how many real solutions there are: two when it is positive, one when it is zero, and none when it is negative. Completing the square is worth learning even if you remember the formula, because the same trick finds the centre of a circle from its equation and the vertex of a parabola from its graph.</p>
""",
)

ARTICLES["variance"] = dict(
    lang="en",
    site="statsnotes",
    category="math",
    subcategory="mathjax3",
    head='<style id="MJX-CHTML-styles">mjx-container[jax="CHTML"] { line-height: 0; } mjx-container [space="1"] { margin-left: .111em; }</style>\n'
    '<script id="MathJax-script" async src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>\n',
    title="Why the Sample Variance Divides by n − 1",
    author="Agnes Holt",
    date="30 June 2025",
    body="""
<p>Students meet two formulas for the variance and wonder why the one for samples divides by one less than the number of observations. The short answer is that the sample mean is closer to the data than the true mean is, so squared distances from it are too small on average. Dividing by a smaller number makes up the difference exactly.</p>

<p>Given observations <mjx-container class="MathJax" jax="CHTML" style="position: relative;"><mjx-math class="MJX-TEX" aria-hidden="true"><mjx-msub><mjx-mi class="mjx-i"><mjx-c class="mjx-c1D465 TEX-I"></mjx-c></mjx-mi><mjx-script style="vertical-align: -0.15em;"><mjx-mn class="mjx-n" size="s"><mjx-c class="mjx-c31"></mjx-c></mjx-mn></mjx-script></mjx-msub></mjx-math><mjx-assistive-mml unselectable="on" display="inline"><math xmlns="http://www.w3.org/1998/Math/MathML"><msub><mi>x</mi><mn>1</mn></msub><mo>,</mo><mo>…</mo><mo>,</mo><msub><mi>x</mi><mi>n</mi></msub></math></mjx-assistive-mml></mjx-container> with mean <mjx-container class="MathJax" jax="CHTML" style="position: relative;"><mjx-math class="MJX-TEX" aria-hidden="true"><mjx-mover><mjx-mi class="mjx-i"><mjx-c class="mjx-c1D465 TEX-I"></mjx-c></mjx-mi></mjx-mover></mjx-math><mjx-assistive-mml unselectable="on" display="inline"><math xmlns="http://www.w3.org/1998/Math/MathML"><mover><mi>x</mi><mo>¯</mo></mover></math></mjx-assistive-mml></mjx-container>, the sample variance is</p>

<mjx-container class="MathJax" jax="CHTML" display="true" style="position: relative;"><mjx-math display="true" class="MJX-TEX" aria-hidden="true"><mjx-msup><mjx-mi class="mjx-i"><mjx-c class="mjx-c1D460 TEX-I"></mjx-c></mjx-mi><mjx-script style="vertical-align: 0.413em;"><mjx-mn class="mjx-n" size="s"><mjx-c class="mjx-c32"></mjx-c></mjx-mn></mjx-script></mjx-msup><mjx-mo class="mjx-n"><mjx-c class="mjx-c3D"></mjx-c></mjx-mo></mjx-math><mjx-assistive-mml unselectable="on" display="block"><math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><msup><mi>s</mi><mn>2</mn></msup><mo>=</mo><mfrac><mn>1</mn><mrow><mi>n</mi><mo>−</mo><mn>1</mn></mrow></mfrac><munderover><mo>∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mi>n</mi></munderover><mo stretchy="false">(</mo><msub><mi>x</mi><mi>i</mi></msub><mo>−</mo><mover><mi>x</mi><mo>¯</mo></mover><msup><mo stretchy="false">)</mo><mn>2</mn></msup></math></mjx-assistive-mml></mjx-container>

<p>The reason is one identity. For any number <mjx-container class="MathJax" jax="CHTML" style="position: relative;"><mjx-math class="MJX-TEX" aria-hidden="true"><mjx-mi class="mjx-i"><mjx-c class="mjx-c1D707 TEX-I"></mjx-c></mjx-mi></mjx-math><mjx-assistive-mml unselectable="on" display="inline"><math xmlns="http://www.w3.org/1998/Math/MathML"><mi>μ</mi></math></mjx-assistive-mml></mjx-container>, the sum of squared distances splits into the distances from the sample mean plus a term that is never negative:</p>

<mjx-container class="MathJax" jax="CHTML" display="true" style="position: relative;"><mjx-math display="true" class="MJX-TEX" aria-hidden="true"><mjx-munderover><mjx-mo class="mjx-lop"><mjx-c class="mjx-c2211 TEX-S2"></mjx-c></mjx-mo></mjx-munderover></mjx-math><mjx-assistive-mml unselectable="on" display="block"><math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><munderover><mo>∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mi>n</mi></munderover><mo stretchy="false">(</mo><msub><mi>x</mi><mi>i</mi></msub><mo>−</mo><mi>μ</mi><msup><mo stretchy="false">)</mo><mn>2</mn></msup><mo>=</mo><munderover><mo>∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mi>n</mi></munderover><mo stretchy="false">(</mo><msub><mi>x</mi><mi>i</mi></msub><mo>−</mo><mover><mi>x</mi><mo>¯</mo></mover><msup><mo stretchy="false">)</mo><mn>2</mn></msup><mo>+</mo><mi>n</mi><mo stretchy="false">(</mo><mover><mi>x</mi><mo>¯</mo></mover><mo>−</mo><mi>μ</mi><msup><mo stretchy="false">)</mo><mn>2</mn></msup></math></mjx-assistive-mml></mjx-container>

<p>Taking expectations with the true mean in place of the arbitrary number, the left side is n times the true variance and the last term is the variance of the mean, one n-th as large, times n. What remains for the squared distances from the sample mean is n − 1 times the true variance, which is exactly what the division undoes. The correction matters for small samples and hardly at all for large ones.</p>
""",
)

ARTICLES["ringbuffer"] = dict(
    lang="en",
    site="devdocs",
    category="code",
    subcategory="highlight_table",
    title="Ring Buffers: a Fixed-Size Queue",
    author="Tomasz Wrona",
    date="11 June 2025",
    body="""
A ring buffer stores a queue in a fixed array and two positions: where the next item is written and where the next item is read. When a position reaches the end of the array it wraps round to the start, so the buffer never needs to move items or allocate memory. That makes it the usual choice for audio streams, logs that keep only the latest lines and messages passed between threads.

## A minimal implementation

The version below overwrites the oldest item when the buffer is full, which is what a log of recent events wants. The count tells a full buffer from an empty one, because in both cases the read and write positions are equal.

<div class="language-python highlight"><table class="highlighttable"><tr><td class="linenos"><div class="linenodiv"><pre><span></span><span class="normal"><a href="#__codelineno-0-1">1</a></span>
<span class="normal"><a href="#__codelineno-0-2">2</a></span>
<span class="normal"><a href="#__codelineno-0-3">3</a></span>
<span class="normal"><a href="#__codelineno-0-4">4</a></span>
<span class="normal"><a href="#__codelineno-0-5">5</a></span>
<span class="normal"><a href="#__codelineno-0-6">6</a></span>
<span class="normal"><a href="#__codelineno-0-7">7</a></span>
<span class="normal"><a href="#__codelineno-0-8">8</a></span>
<span class="normal"><a href="#__codelineno-0-9">9</a></span>
<span class="normal"><a href="#__codelineno-0-10">10</a></span>
<span class="normal"><a href="#__codelineno-0-11">11</a></span>
<span class="normal"><a href="#__codelineno-0-12">12</a></span>
<span class="normal"><a href="#__codelineno-0-13">13</a></span>
<span class="normal"><a href="#__codelineno-0-14">14</a></span>
<span class="normal"><a href="#__codelineno-0-15">15</a></span></pre></div></td><td class="code"><div><pre><span></span><code><a id="__codelineno-0-1" name="__codelineno-0-1"></a><span class="k">class</span> <span class="nc">RingBuffer</span><span class="p">:</span>
<a id="__codelineno-0-2" name="__codelineno-0-2"></a>    <span class="k">def</span> <span class="fm">__init__</span><span class="p">(</span><span class="bp">self</span><span class="p">,</span> <span class="n">size</span><span class="p">):</span>
<a id="__codelineno-0-3" name="__codelineno-0-3"></a>        <span class="bp">self</span><span class="o">.</span><span class="n">items</span> <span class="o">=</span> <span class="p">[</span><span class="kc">None</span><span class="p">]</span> <span class="o">*</span> <span class="n">size</span>
<a id="__codelineno-0-4" name="__codelineno-0-4"></a>        <span class="bp">self</span><span class="o">.</span><span class="n">start</span> <span class="o">=</span> <span class="bp">self</span><span class="o">.</span><span class="n">count</span> <span class="o">=</span> <span class="mi">0</span>
<a id="__codelineno-0-5" name="__codelineno-0-5"></a>
<a id="__codelineno-0-6" name="__codelineno-0-6"></a>    <span class="k">def</span> <span class="nf">push</span><span class="p">(</span><span class="bp">self</span><span class="p">,</span> <span class="n">item</span><span class="p">):</span>
<a id="__codelineno-0-7" name="__codelineno-0-7"></a>        <span class="n">end</span> <span class="o">=</span> <span class="p">(</span><span class="bp">self</span><span class="o">.</span><span class="n">start</span> <span class="o">+</span> <span class="bp">self</span><span class="o">.</span><span class="n">count</span><span class="p">)</span> <span class="o">%</span> <span class="nb">len</span><span class="p">(</span><span class="bp">self</span><span class="o">.</span><span class="n">items</span><span class="p">)</span>
<a id="__codelineno-0-8" name="__codelineno-0-8"></a>        <span class="bp">self</span><span class="o">.</span><span class="n">items</span><span class="p">[</span><span class="n">end</span><span class="p">]</span> <span class="o">=</span> <span class="n">item</span>
<a id="__codelineno-0-9" name="__codelineno-0-9"></a>        <span class="k">if</span> <span class="bp">self</span><span class="o">.</span><span class="n">count</span> <span class="o">==</span> <span class="nb">len</span><span class="p">(</span><span class="bp">self</span><span class="o">.</span><span class="n">items</span><span class="p">):</span>
<a id="__codelineno-0-10" name="__codelineno-0-10"></a>            <span class="bp">self</span><span class="o">.</span><span class="n">start</span> <span class="o">=</span> <span class="p">(</span><span class="bp">self</span><span class="o">.</span><span class="n">start</span> <span class="o">+</span> <span class="mi">1</span><span class="p">)</span> <span class="o">%</span> <span class="nb">len</span><span class="p">(</span><span class="bp">self</span><span class="o">.</span><span class="n">items</span><span class="p">)</span>
<a id="__codelineno-0-11" name="__codelineno-0-11"></a>        <span class="k">else</span><span class="p">:</span>
<a id="__codelineno-0-12" name="__codelineno-0-12"></a>            <span class="bp">self</span><span class="o">.</span><span class="n">count</span> <span class="o">+=</span> <span class="mi">1</span>
<a id="__codelineno-0-13" name="__codelineno-0-13"></a>
<a id="__codelineno-0-14" name="__codelineno-0-14"></a>    <span class="k">def</span> <span class="nf">latest</span><span class="p">(</span><span class="bp">self</span><span class="p">):</span>
<a id="__codelineno-0-15" name="__codelineno-0-15"></a>        <span class="k">return</span> <span class="p">[</span><span class="bp">self</span><span class="o">.</span><span class="n">items</span><span class="p">[(</span><span class="bp">self</span><span class="o">.</span><span class="n">start</span> <span class="o">+</span> <span class="n">i</span><span class="p">)</span> <span class="o">%</span> <span class="nb">len</span><span class="p">(</span><span class="bp">self</span><span class="o">.</span><span class="n">items</span><span class="p">)]</span> <span class="k">for</span> <span class="n">i</span> <span class="ow">in</span> <span class="nb">range</span><span class="p">(</span><span class="bp">self</span><span class="o">.</span><span class="n">count</span><span class="p">)]</span>
</code></pre></div></td></tr></table></div>

Pushing onto a full buffer moves the start forward by one, so the oldest item is the one overwritten. Reading everything in order is a single list comprehension that starts at the oldest position and wraps with the modulo operator.

## When not to use one

A ring buffer has a fixed capacity chosen up front. If losing old items is not acceptable, either block the writer until there is room, which is what a bounded queue between threads does, or use a structure that grows. In Python, collections.deque with a maxlen argument is a ring buffer already written and tested, and it is the better choice outside of an exercise.
""",
)

PAGES.append(
    dict(
        key="forum_solder",
        category="forum",
        subcategory="phpbb",
        lang="en",
        site="fieldradio",
        title="Which tip temperature for lead-free solder? - Field Radio Forum",
        path="/viewtopic.php?t=2207",
        chrome=False,
        body="""
<div id="wrap" class="wrap"><div id="page-header"><div class="headerbar" role="banner"><div class="inner"><a id="logo" class="logo" href="./index.php" title="Board index">Field Radio Forum</a><p class="skiplink"><a href="#start_here">Skip to content</a></p></div></div><div class="navbar" role="navigation"><ul id="nav-breadcrumbs" class="nav-breadcrumbs linklist navlinks"><li class="breadcrumbs"><span class="crumb"><a href="./index.php">Board index</a></span> <span class="crumb"><a href="./viewforum.php?f=4">Building and repair</a></span></li></ul></div></div>
<div id="page-body" class="page-body" role="main"><h2 class="topic-title"><a href="./viewtopic.php?t=2207">Which tip temperature for lead-free solder?</a></h2><div class="action-bar bar-top"><a href="./posting.php?mode=reply&amp;t=2207" class="button" title="Post a reply"><span>Post Reply</span></a><div class="pagination">3 posts &bull; Page <strong>1</strong> of <strong>1</strong></div></div>
<div id="p18811" class="post has-profile bg2"><div class="inner"><dl class="postprofile" id="profile18811"><dt class="has-profile-rank no-avatar"><a href="./memberlist.php?mode=viewprofile&amp;u=912" class="username">kestrel_ham</a></dt><dd class="profile-rank">New member</dd><dd class="profile-posts"><strong>Posts:</strong> 14</dd></dl><div class="postbody"><div id="post_content18811"><h3 class="first"><a href="#p18811">Which tip temperature for lead-free solder?</a></h3><p class="author"><a class="unread" href="./viewtopic.php?p=18811#p18811" title="Post">by <strong><a href="./memberlist.php?mode=viewprofile&amp;u=912" class="username">kestrel_ham</a></strong></a> &raquo; Sat Mar 08, 2025 7:42 pm</p><div class="content">I am rebuilding the power supply of an old receiver and switched to lead-free solder because it is all the local shop sells. With my iron at 300 degrees the joints come out dull and grainy, and the solder takes ages to flow. The station lets me set the temperature from 200 to 450 degrees. What should I use, and is the dull look a sign of a bad joint?</div></div><div id="sig18811" class="signature">73 de kestrel, QRP since 2019</div></div></div></div>
<div id="p18814" class="post has-profile bg1"><div class="inner"><dl class="postprofile" id="profile18814"><dt class="has-profile-rank no-avatar"><a href="./memberlist.php?mode=viewprofile&amp;u=33" class="username">old_valve</a></dt><dd class="profile-rank">Moderator</dd></dl><div class="postbody"><div id="post_content18814"><h3><a href="#p18814">Re: Which tip temperature for lead-free solder?</a></h3><p class="author">by <strong><a href="./memberlist.php?mode=viewprofile&amp;u=33" class="username">old_valve</a></strong> &raquo; Sat Mar 08, 2025 8:15 pm</p><div class="content">Lead-free alloys melt at about 217 to 227 degrees, some 35 degrees higher than the old tin-lead solder, so 300 is on the low side for anything bigger than a resistor lead. Start at 350 and go to 370 for ground planes and heavy terminals. A dull, slightly grainy surface is normal for most lead-free alloys and does not mean the joint is cold; what matters is that the solder has wetted both the pad and the lead and forms a smooth fillet.<br><br>Use a chisel tip rather than a fine cone: the larger contact area moves heat faster, which matters more than the number on the display.</div></div></div></div></div>
<div id="p18820" class="post has-profile bg2"><div class="inner"><dl class="postprofile" id="profile18820"><dt class="has-profile-rank no-avatar"><a href="./memberlist.php?mode=viewprofile&amp;u=912" class="username">kestrel_ham</a></dt></dl><div class="postbody"><div id="post_content18820"><h3><a href="#p18820">Re: Which tip temperature for lead-free solder?</a></h3><p class="author">by <strong><a href="./memberlist.php?mode=viewprofile&amp;u=912" class="username">kestrel_ham</a></strong> &raquo; Sun Mar 09, 2025 10:03 am</p><div class="content"><blockquote cite="./viewtopic.php?p=18814#p18814"><div><cite><a href="./memberlist.php?mode=viewprofile&amp;u=33">old_valve</a> wrote: <a href="./viewtopic.php?p=18814#p18814" data-post-id="18814">&uarr;</a></cite>Start at 350 and go to 370 for ground planes and heavy terminals.</div></blockquote>That did it, thank you. At 360 with the chisel tip the solder flows in a second or two, and the joints on the rectifier board look like the pictures in the manual. I also cleaned the tip with brass wool instead of the wet sponge, which keeps it much shinier.</div></div><div id="sig18820" class="signature">73 de kestrel, QRP since 2019</div></div></div></div>
</div>
<div id="page-footer" class="page-footer" role="contentinfo"><div class="navbar" role="navigation"><ul class="linklist"><li><a href="./ucp.php?mode=privacy">Privacy</a></li><li><a href="./ucp.php?mode=terms">Terms</a></li></ul></div><div class="copyright">Powered by <a href="https://www.phpbb.com/">phpBB</a>&reg; Forum Software &copy; phpBB Limited</div></div></div>
""",
    )
)
