"""Write assets/objects/objects.json, the one object table, from the compact tables below.

Why a script: the table has several hundred rows with eight fields each; written by hand as JSON
it drifts (a plural forgotten, a synonym claimed by two entries). Here each category states its
defaults once and each row names only what differs, so a reviewer reads a category in one glance,
and the checks at the end refuse to write a table with duplicates or unknown values.

Row syntax, entries separated by ";":

    name[=plural][/synonym[=plural]...] [size] [zone] [colour] [>drawable] [@habitat]

A word of a name that is also a zone word is joined with "_" ("dining_table").

Tokens after the names are recognised by which set they belong to (SIZE_CLASSES, ZONES, vocab
COLORS), ">x" overrides the drawable and "@x" the habitat. Plurals are derived by the usual
English rules unless given after "=".

    python tools/build_object_table.py            # writes assets/objects/objects.json
    python tools/build_object_table.py --check    # exits 1 if the file on disk is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmthink.modalities.image.vocab import COLORS  # noqa: E402

OUT = ROOT / "assets" / "objects" / "objects.json"

SIZE_CLASSES = {"tiny": 0.05, "small": 0.10, "medium": 0.18, "large": 0.30, "huge": 0.45}
"""Size class -> fraction of the canvas's short side for one element (the scale of vocab.SIZES)."""

ZONES = {
    "sky": "up in the air or in space",
    "ground": "standing on the ground",
    "water": "on or in water",
    "table": "on a table or shelf (small indoor things)",
    "wall": "hung on or fixed to a wall",
    "person": "worn or carried by a person or animal",
    "any": "no usual place",
}
HABITATS = {
    "space": "the backdrop is space",
    "sea": "the backdrop is sea and sky",
    "indoor": "the backdrop is a room",
    "outdoor": "the backdrop is land and sky",
    "any": "no preference",
}

# Drawings that exist today in mmthink/media/drawables.py (KINDS). Entries drawn by one of these
# use it; the rest name a category drawing from CATEGORY_DRAWINGS.
EXISTING_DRAWABLES = {
    "sun",
    "moon",
    "star",
    "cloud",
    "planet",
    "nebula",
    "spaceship",
    "battlecruiser",
    "rocket",
    "laser",
    "explosion",
    "car",
    "boat",
    "ship",
    "train",
    "tree",
    "flower",
    "mountain",
    "house",
    "castle",
    "lighthouse",
    "bridge",
    "tunnel",
    "person",
    "astronaut",
    "cat",
    "dog",
    "bird",
    "fish",
    "owl",
    "whale",
    "penguin",
    "fox",
    "dragon",
    "apple",
    "cup",
    "book",
    "table",
    "chair",
    "lamp",
    "candle",
    "balloon",
    "kite",
    "umbrella",
    "guitar",
    "robot",
    "plant",
    "iceberg",
    "lantern",
    "flag",
    "hat",
    "scarf",
    "door",
    "bowl",
    "wall",
    "ball",
    "tower",
    "pad",
    "generic",
    "clock",
}
CATEGORY_DRAWINGS = {
    "quadruped": "a four-legged animal: body, four legs, head, tail",
    "insect": "a small body with wings or legs",
    "reptile": "a long low body with a tail",
    "bicycle": "two wheels and a frame",
    "bus": "a long box on wheels with a row of windows",
    "truck": "a cab and a cargo box on wheels",
    "plane": "a fuselage with wings and a tail fin",
    "building": "a tall block with windows",
    "food": "a rounded item on a plate",
    "bottle": "a tall container with a neck",
    "screen": "a device with a screen",
    "furniture": "a box-like piece of furniture",
    "garment": "a piece of clothing",
    "sign": "a board on a post, with text",
    "instrument": "a musical instrument",
    "tool": "a handle with a working end",
    "container": "a box, bag or basket",
    "rock": "a rounded lump",
    "backdrop": "a place: painted as the background, not as an object",
}

# category -> (description, size, zone, colour, drawable, habitat)
CATEGORIES: dict[str, tuple[str, str, str, str, str, str]] = {
    "person": ("people and human figures", "medium", "ground", "blue", "person", "any"),
    "mammal": ("four-legged and other mammals", "medium", "ground", "brown", "quadruped", "outdoor"),
    "bird": ("birds", "small", "sky", "blue", "bird", "outdoor"),
    "sea animal": ("fish and other animals of the sea", "small", "water", "orange", "fish", "sea"),
    "reptile": ("reptiles, amphibians and dragons", "small", "ground", "green", "reptile", "outdoor"),
    "insect": ("insects and other small creatures", "tiny", "sky", "black", "insect", "outdoor"),
    "road vehicle": ("cars, buses, trucks, bicycles", "medium", "ground", "red", "car", "outdoor"),
    "rail vehicle": ("trains and trams", "medium", "ground", "red", "train", "outdoor"),
    "watercraft": ("boats and ships", "large", "water", "white", "boat", "sea"),
    "aircraft": ("aeroplanes, helicopters, balloons", "medium", "sky", "white", "plane", "outdoor"),
    "spacecraft": ("rockets, spaceships, satellites", "medium", "sky", "silver", "spaceship", "space"),
    "celestial": ("sun, moon, stars, planets", "medium", "sky", "white", "star", "space"),
    "weather": ("clouds, rainbows, lightning, fire", "medium", "sky", "white", "cloud", "outdoor"),
    "landform": ("mountains, islands, rocks", "huge", "ground", "grey", "mountain", "outdoor"),
    "building": ("houses, towers and other buildings", "large", "ground", "tan", "building", "outdoor"),
    "structure": ("bridges, walls, fences, statues", "large", "ground", "grey", "building", "outdoor"),
    "tree": ("trees", "large", "ground", "green", "tree", "outdoor"),
    "plant": ("bushes, cacti, house plants", "small", "ground", "green", "plant", "any"),
    "flower": ("flowers", "small", "ground", "pink", "flower", "outdoor"),
    "fruit": ("fruit", "small", "table", "red", "apple", "indoor"),
    "vegetable": ("vegetables", "small", "table", "green", "food", "indoor"),
    "food": ("prepared food", "small", "table", "tan", "food", "indoor"),
    "drink": ("drinks", "small", "table", "brown", "cup", "indoor"),
    "tableware": ("cups, bowls, bottles, cutlery", "small", "table", "white", "cup", "indoor"),
    "furniture": ("tables, chairs, beds, shelves", "large", "ground", "brown", "furniture", "indoor"),
    "electronics": ("devices with screens and appliances", "small", "table", "black", "screen", "indoor"),
    "garment": ("clothing and accessories worn", "small", "person", "red", "garment", "any"),
    "bag": ("bags and luggage", "small", "ground", "brown", "container", "any"),
    "sign": ("signs, flags, street furniture", "medium", "ground", "red", "sign", "outdoor"),
    "sports gear": ("balls, boards, rackets", "small", "ground", "white", "ball", "outdoor"),
    "instrument": ("musical instruments", "medium", "any", "brown", "instrument", "indoor"),
    "tool": ("tools, writing things, weapons", "small", "any", "grey", "tool", "any"),
    "toy": ("toys and gifts", "small", "ground", "red", "container", "indoor"),
    "light": ("lamps, candles, lanterns", "small", "any", "yellow", "lamp", "any"),
    "machine": ("robots", "medium", "ground", "silver", "robot", "any"),
    "place": ("settings: drawn as the background", "huge", "any", "green", "backdrop", "any"),
}

ROWS: dict[str, str] = {
    "person": """
        person=people/human; man=men/gentleman=gentlemen/guy; woman=women/lady=ladies; child=children/kid;
        boy; girl; baby/infant; toddler; teenager/teen; astronaut white >astronaut; knight grey; king gold;
        queen purple; princess pink; prince; wizard purple; witch black; pirate black; soldier olive;
        chef white; doctor white; nurse white; firefighter/fireman=firemen yellow;
        police officer/policeman=policemen navy;
        farmer; teacher; student; dancer; musician; clown; cowboy brown; ninja black; surfer; skier; snowboarder;
        skateboarder; runner; fisherman=fishermen; grandmother/grandma; grandfather/grandpa; mother/mom/mum;
        father/dad; mermaid teal; angel white; superhero=superheroes red; ghost white; snowman=snowmen white;
        scarecrow tan;
        cyclist; athlete; player; soccer player; tourist; hiker; diver; sailor white; pilot; scientist white; monk
    """,
    "mammal": """
        cat/kitty small orange >cat; kitten small orange >cat; dog >dog; puppy/pup small >dog; fox orange >fox;
        wolf=wolves grey; horse; pony; donkey grey; zebra white large; giraffe yellow huge; elephant grey huge;
        bear large; polar bear white large; panda white; koala grey small; kangaroo tan; lion gold large;
        tiger orange large; leopard gold; cheetah gold; deer=deer tan; moose=moose large; elk=elk; reindeer=reindeer;
        cow/cattle=cattle white large; bull black large; ox=oxen large; calf=calves small; pig pink; sheep=sheep white;
        lamb white small; goat white; camel tan large; llama white; alpaca beige; rabbit/bunny white small;
        hare small; squirrel small; mouse=mice tiny grey; rat small grey; hamster tiny tan; guinea pig small;
        raccoon small grey; hedgehog tiny brown; beaver small; otter small; badger small grey; skunk small black;
        monkey; gorilla black large; chimpanzee/chimp black; orangutan orange; sloth; bat tiny black sky;
        hippopotamus=hippopotamuses/hippo grey large; rhinoceros=rhinoceroses/rhino grey large; unicorn white;
        bison=bison/buffalo=buffalo large; boar; lynx small grey; meerkat tiny tan; armadillo small grey;
        dinosaur green huge; mammoth brown huge
    """,
    "bird": """
        bird; owl brown any >owl; penguin black ground >penguin; eagle brown; hawk brown; falcon brown;
        parrot green; seagull/gull white; pigeon grey; dove white; duck yellow water; goose=geese white ground;
        swan white water; chicken/hen white ground; rooster red ground; turkey brown ground; flamingo pink ground;
        peacock blue ground; crow black; raven black; sparrow brown tiny; robin brown tiny; hummingbird green tiny;
        ostrich black ground medium; pelican white; toucan black; woodpecker red; vulture black; phoenix orange;
        kingfisher blue; stork white; heron grey; canary yellow tiny; magpie black; cardinal red tiny
    """,
    "sea animal": """
        fish=fish >fish; goldfish=goldfish gold tiny; shark grey medium >whale; dolphin grey medium >whale;
        whale navy large >whale; octopus=octopuses purple; jellyfish=jellyfish pink; crab red; lobster red;
        shrimp=shrimp pink tiny; seal grey ground; walrus=walruses brown ground medium; starfish=starfish orange tiny;
        seahorse yellow tiny; sea turtle green; squid pink; stingray grey; clownfish=clownfish orange tiny;
        salmon=salmon pink; orca black large >whale; eel grey; coral pink
    """,
    "reptile": """
        turtle; tortoise brown; frog; toad brown; snake; lizard; crocodile large; alligator large; chameleon;
        iguana; gecko tiny; cobra brown; dragon large sky >dragon; dragonling small
    """,
    "insect": """
        butterfly=butterflies orange; bee yellow; ladybug/ladybird red; ant; spider; dragonfly=dragonflies blue;
        moth brown; beetle; caterpillar green ground; snail brown ground; grasshopper green ground;
        mosquito=mosquitoes; firefly=fireflies yellow; worm pink ground; scorpion=scorpions brown ground; wasp yellow
    """,
    "road vehicle": """
        car/automobile >car; taxi/cab yellow >car; bus >bus; school bus yellow >bus; truck/lorry >truck;
        pickup truck >truck; fire truck/fire engine red >truck; ambulance white >truck; police car white >car;
        van white >truck; jeep green >car; race car/racecar red >car; tractor green >truck;
        motorcycle/motorbike black >bicycle; scooter >bicycle; bicycle/bike blue >bicycle; tricycle >bicycle;
        wagon brown; carriage black; tank olive large >truck; bulldozer yellow >truck; limousine black >car;
        sports car red >car; minivan silver >car; forklift yellow >truck; golf cart white >car; rickshaw >bicycle;
        cart brown small; trailer/caravan white >truck; camper van white >truck
    """,
    "rail vehicle": """
        train large; locomotive/steam engine black; tram/streetcar yellow; subway train silver; bullet train white;
        freight train brown
    """,
    "watercraft": """
        boat >boat; sailboat/sailing boat >boat; ship >ship; yacht >boat; canoe red medium >boat;
        kayak yellow medium >boat; ferry >ship; submarine yellow >ship; raft brown medium >boat; rowboat brown >boat;
        speedboat >boat; cruise ship huge >ship; pirate ship brown >ship; gondola black >boat; tugboat red >boat;
        fishing boat blue >boat; steamboat >ship; warship grey >ship; paddle boat >boat; jet ski red small >boat
    """,
    "aircraft": """
        airplane/plane/aeroplane/aircraft=aircraft/airliner; jet silver; helicopter red; hot air balloon red >balloon;
        blimp/airship silver; glider white; drone black small; biplane red; seaplane white; fighter jet grey;
        paraglider orange; parachute red
    """,
    "spacecraft": """
        spaceship/spacecraft=spacecraft/space ship; starship; starfighter/fighter small;
        battlecruiser/cruiser/mothership grey large >battlecruiser;
        space station grey large >battlecruiser; satellite small; rocket white large ground >rocket @outdoor;
        space shuttle/shuttle white large ground >rocket @outdoor; flying saucer/ufo grey;
        lunar lander/lander silver ground >rocket;
        laser beam/laser/beam/ray red tiny >laser; space probe small; space capsule/capsule white small >rocket;
        missile white small >rocket; launch pad grey large ground >pad @outdoor
    """,
    "celestial": """
        sun yellow >sun @any; moon ivory >moon @any; star gold tiny >star @any; planet blue-green large >planet;
        comet white small >star; galaxy=galaxies purple huge >nebula; nebula=nebulae purple huge >nebula;
        asteroid grey small >planet; meteor orange small >star; black hole black large >planet;
        earth/world blue large >planet;
        mars red large >planet; saturn tan large >planet; jupiter tan large >planet
    """,
    "weather": """
        cloud white small >cloud; rainbow >cloud large; lightning bolt/lightning yellow >laser;
        tornado grey large >cloud;
        explosion/blast orange small >explosion; fire/flame orange small >explosion;
        campfire orange small ground >explosion;
        firework orange small >explosion; snowflake white tiny >star; raindrop blue tiny >star; smoke grey >cloud;
        wave blue medium water >cloud;
        sunbeam yellow >laser; aurora green huge >nebula; fireball orange small >explosion
    """,
    "landform": """
        mountain grey >mountain; volcano=volcanoes brown >mountain; island tan large water >mountain @sea;
        iceberg white large water >iceberg @sea; waterfall blue large >mountain; rock small >rock;
        boulder grey medium >rock;
        cave grey large >tunnel; glacier white >iceberg; sand dune/dune tan >mountain; cliff grey >mountain;
        hill green large >mountain; pebble tiny >rock; crystal azure small >rock; log brown small >rock;
        stump brown small >rock; puddle blue small >rock; pond blue medium >rock
    """,
    "building": """
        house >house; building; cabin brown >house; cottage >house; hut brown >house; castle grey huge >castle;
        palace white huge >castle; fortress grey huge >castle; tower grey >tower; lighthouse white >lighthouse @sea;
        light house white >lighthouse @sea; skyscraper grey huge; church white; temple gold; mosque white; pagoda red;
        barn red >house; farmhouse white >house; windmill white >tower; school red; hospital white; museum white;
        stadium grey huge; igloo white >house; tent orange large >house; treehouse brown >house; shop; store;
        bakery; cafe/coffee shop brown; restaurant; factory grey; apartment building; pyramid tan huge >mountain;
        library; train station; theater/theatre/cinema/movie theater red; opera house white;
        lighthouse tower white >lighthouse; gas station; cathedral grey huge >castle; observatory white;
        greenhouse green;
        shed brown medium >house; garage grey >house; hotel; bank white; office building grey; dome white;
        mansion white; bungalow >house; kennel brown small >house; birdhouse brown small >house;
        doghouse red small >house
    """,
    "structure": """
        bridge brown >bridge; tunnel >tunnel; wall white huge >wall; fence brown; gate brown >door;
        door brown medium >door; window azure medium >door; chimney red; roof red medium;
        windowsill/window sill white small wall; balcony grey; porch brown; fountain grey; statue grey;
        monument grey; well grey medium; arch grey; staircase/stairs=stairs brown; column/pillar white >tower;
        dam grey; pier brown; dock brown; ladder brown medium >tool; swing red medium; slide red medium;
        playground; scaffolding grey; railway track/railroad track brown; road grey; path tan;
        windmill tower grey >tower;
        launch tower grey >tower; clock tower brown >tower; water tower grey >tower; totem pole brown >tower
    """,
    "tree": """
        tree >tree; palm tree/palm green >tree; pine tree/pine green >tree; oak tree/oak green >tree;
        christmas tree green >tree; maple tree/maple red >tree; birch tree/birch white >tree;
        willow tree/willow green >tree;
        cherry tree pink >tree; apple tree green >tree; bonsai tree/bonsai small >tree; baobab brown >tree;
        redwood brown huge >tree; sapling small >tree
    """,
    "plant": """
        plant >plant; potted plant/houseplant/house plant >plant; bush/shrub >plant; cactus=cacti >plant;
        fern >plant; bamboo >plant; mushroom=mushrooms/toadstool red tiny >plant; leaf=leaves tiny >plant;
        vine >plant; hedge medium >plant; seaweed tiny water >plant; grass tuft tiny >plant; clover tiny >plant;
        succulent tiny >plant; ivy >plant; reed >plant; moss tiny >plant; herb tiny >plant; weed tiny >plant;
        water lily white water >flower
    """,
    "flower": """
        flower >flower; rose red >flower; tulip red >flower; sunflower yellow >flower; daisy=daisies white >flower;
        lily=lilies white >flower; orchid purple >flower; lotus=lotuses pink water >flower; bouquet >flower;
        cherry blossom pink >flower; poppy=poppies red >flower; lavender purple >flower; dandelion yellow >flower;
        violet flower violet >flower; carnation pink >flower; hibiscus=hibiscuses red >flower; marigold orange >flower;
        daffodil yellow >flower; iris=irises purple >flower
    """,
    "fruit": """
        apple >apple; orange orange >apple; banana yellow; pear green >apple; peach orange >apple;
        cherry=cherries red tiny >apple; strawberry=strawberries red tiny >apple; grape purple tiny >apple;
        lemon yellow >apple; watermelon green medium; pineapple yellow; mango orange >apple; coconut brown >apple;
        avocado green >apple; blueberry=blueberries navy tiny >apple; raspberry=raspberries red tiny >apple;
        kiwi green tiny >apple; plum purple >apple; pumpkin orange medium ground >apple; melon green >apple;
        fig purple tiny >apple; pomegranate red >apple; apricot orange tiny >apple; grapefruit pink >apple;
        fruit=fruits red >apple
    """,
    "vegetable": """
        broccoli=broccoli green; carrot orange; tomato=tomatoes red >apple; potato=potatoes tan;
        corn yellow; onion purple >apple; pepper red; cucumber green; lettuce green; eggplant purple; garlic white;
        cabbage green >apple; cauliflower white; radish red tiny; beet purple; peas=peas green tiny; zucchini green;
        chili pepper red tiny; spinach green
    """,
    "food": """
        sandwich; hot dog brown; pizza orange; donut/doughnut pink; cake pink; birthday cake pink; cupcake pink;
        cookie brown tiny; pie brown; hamburger/burger/cheeseburger brown; taco yellow; sushi=sushi white tiny;
        bread brown; loaf=loaves brown; croissant gold; bagel tan; pancake tan; waffle gold; ice cream pink;
        ice cream cone pink; egg white tiny; cheese yellow; steak brown; noodles=noodles tan; salad green;
        soup orange; french fries=french fries/fries=fries yellow; popcorn=popcorn white; chocolate bar brown; chocolate=chocolates brown tiny;
        candy=candies pink tiny; lollipop pink tiny; pretzel brown tiny; muffin brown tiny; spaghetti=spaghetti tan;
        dumpling white tiny; burrito tan; pasta=pasta tan; rice=rice white; ramen=ramen tan; curry=curry orange;
        sandwich wrap tan; sausage brown tiny; bacon=bacon red;
        honey=honey gold; jam=jam red; macaron pink tiny; pudding brown; omelette yellow; toast tan; cereal tan;
        nut=nuts brown tiny; turkey dinner brown; gingerbread man=gingerbread men brown
    """,
    "drink": """
        drink/beverage brown; coffee=coffee brown; tea=tea brown; juice=juice orange; wine=wine crimson;
        beer=beer amber; milk=milk white;
        lemonade yellow; smoothie pink; milkshake pink; soda=soda brown; cocktail pink;
        hot chocolate=hot chocolate brown
    """,
    "tableware": """
        cup >cup; mug >cup; wine glass azure >cup; drinking glass/glass azure >cup; bottle green >bottle;
        wine bottle green >bottle; water bottle blue >bottle; bowl azure large >bowl; plate white; fork silver >tool;
        knife=knives silver >tool; spoon silver >tool; chopsticks=chopsticks brown >tool; teapot white >cup;
        teacup white >cup; kettle silver >cup; jar azure >bottle; pot black >bowl; frying pan/pan black >bowl;
        vase blue >bowl; basket brown >container; bucket blue >container; tray silver; napkin white;
        saucepan silver >bowl; pitcher/jug white >bottle; thermos silver >bottle; lunchbox red >container;
        cutting board brown; rolling pin brown >tool; salt shaker white >bottle; can silver >bottle;
        goblet gold >cup; chalice gold >cup; cauldron black >bowl; flask azure >bottle; potion purple >bottle
    """,
    "furniture": """
        chair >chair; armchair red >chair; stool >chair; bench >chair; couch/sofa red; bed; dining_table >table;
        table >table; desk >table; bookshelf=bookshelves/bookcase; shelf=shelves; cabinet; wardrobe; dresser;
        rug/carpet red; curtain red; mirror silver medium wall; pillow/cushion white small; blanket red;
        crib white; hammock tan; toilet white; bathtub/bath tub white; sink white; fireplace red; throne gold >chair;
        coffee_table >table; nightstand small; rocking chair >chair; picture frame gold small wall;
        painting wall medium; chest of drawers=chests of drawers; bunk bed; high chair >chair; sofa bed;
        ottoman small; seat red; car seat black >chair; sofa chair >chair; counter; bar stool >chair;
        park bench >chair; recliner >chair; crate small >container;
        barrel brown medium >container; treasure chest gold medium >container
    """,
    "electronics": """
        television/tv=tvs; laptop silver; computer grey; monitor; keyboard; computer mouse=computer mice tiny;
        remote control/remote tiny; cell phone/mobile phone/smartphone/phone tiny; tablet; camera;
        radio silver; headphones=headphones; speaker; microwave white; oven silver; toaster silver;
        refrigerator/fridge white large ground; washing machine white ground medium; stove silver ground medium;
        fan white; clock white >clock wall; alarm clock red tiny >clock; watch=watches/wristwatch silver tiny person;
        video game console/game console; calculator; printer white; light bulb/lightbulb yellow tiny >lamp;
        hair drier/hair dryer/hairdryer; toothbrush=toothbrushes blue tiny >tool; vacuum cleaner red ground;
        typewriter black; telephone red; projector white; router; smartwatch tiny person; joystick tiny;
        blender; coffee machine/coffee maker; dishwasher white ground medium; air conditioner white wall;
        walkie-talkie tiny; record player brown; jukebox red ground medium; arcade machine ground medium;
        vending machine red ground medium
    """,
    "garment": """
        hat black >hat; cap blue >hat; top hat black >hat; cowboy hat brown >hat; helmet silver >hat;
        crown gold >hat; beanie red >hat; scarf=scarves red >scarf; tie/necktie red; bow tie black; shirt white;
        t-shirt white; jacket; coat brown; sweater; hoodie grey; dress; skirt; jeans=jeans blue; pants=pants;
        trousers=trousers; shorts=shorts; shoe=shoes black; boot brown; sneaker white; sandal brown; sock white;
        glove; mitten; sunglasses=sunglasses black; eyeglasses=eyeglasses/spectacles=spectacles black; belt black;
        goggles=goggles/swimming goggles=swimming goggles/ski goggles=ski goggles black; monocle gold tiny;
        necklace gold; bracelet gold; earring gold tiny; ring gold tiny; mask white; cape red; apron white;
        uniform blue; kimono red; raincoat yellow; vest; tuxedo black; suit black; gown; robe; bandana red;
        headband; veil white; tiara silver >hat; hood; bikini; swimsuit; pajamas=pajamas; overalls=overalls blue;
        backpack/rucksack >container ground; handbag/purse >container; suitcase/luggage=luggage >container ground;
        wallet brown tiny; umbrella red >umbrella ground; bow ribbon red
    """,
    "bag": """
        bag; shopping bag white; duffel bag; briefcase black; gift bag red; sack tan; paper bag tan
    """,
    "sign": """
        stop sign red; traffic light black; street sign green; sign; billboard; poster wall; banner red >flag;
        flag red small >flag; signpost brown; parking meter grey; fire hydrant red; mailbox blue; postbox red;
        street lamp/lamp post/streetlight/street light black >lamp; trash can/garbage can/bin/dustbin green;
        logo; label; sticker small; menu small; road sign yellow; neon sign pink wall; scoreboard black;
        traffic cone orange small; bus stop; phone booth red; newsstand green; chalkboard/blackboard black wall;
        whiteboard white wall; plaque gold wall; tombstone/gravestone grey; mural wall large; calendar wall small
    """,
    "sports gear": """
        sports ball >ball; ball red >ball; soccer ball/football >ball; basketball orange >ball;
        baseball white tiny >ball;
        tennis ball lime tiny >ball; volleyball >ball; golf ball tiny >ball; beach ball red >ball;
        bowling ball black >ball; rugby ball brown >ball; frisbee red >ball; kite orange sky >kite; ski=skis red;
        snowboard; skateboard; surfboard blue medium; tennis racket/racket; baseball bat brown; baseball glove brown;
        golf club silver; hockey stick brown; trophy gold; medal gold tiny; dumbbell black; sled red; roller skate;
        boxing glove red; goal white large; basketball hoop orange; net white; bow and arrow brown; dartboard;
        fishing rod brown; paddle brown; oar brown; tent pole grey; yoga mat purple; treadmill black ground medium
    """,
    "instrument": """
        guitar >guitar; electric guitar red >guitar; piano black large ground; violin brown; cello brown;
        drum red; drum kit; trumpet gold; saxophone gold; flute silver; harp gold; accordion red;
        microphone black small;
        banjo; ukulele; harmonica silver tiny; tuba gold; xylophone; bell gold small; tambourine; trombone gold;
        clarinet black; bagpipes=bagpipes; keyboard synthesizer/synthesizer black; gong gold; maracas=maracas
    """,
    "tool": """
        hammer; saw; screwdriver; wrench; shovel; axe; rake; scissors=scissors; broom brown; paintbrush brown;
        pencil yellow; pen blue; crayon red; brush brown; key gold tiny; lock; rope brown; chain; sword silver;
        shield silver; arrow tiny; wand brown; cane/walking stick brown; magic wand brown; flashlight black >lamp; telescope; microscope;
        magnifying glass; compass gold; map tan >book; globe blue; hourglass gold; anchor black; wheel black;
        book blue >book @indoor; notebook >book; newspaper white >book; letter white >book; envelope white >book;
        scroll tan >book; diary >book; magazine >book; comic book >book; sketchbook >book; box brown >container;
        gift/present red >container; coin gold tiny; trident gold; spear brown; pickaxe; drill yellow; paint can;
        paint palette; easel brown medium ground; sewing machine; needle tiny; tape measure yellow;
        toolbox red >container;
        watering can green; lawn mower red ground; wheelbarrow red ground; hose green; pitchfork brown; sickle;
        candle holder gold; dagger silver; bow brown; crossbow brown; cannon black medium ground; rifle brown;
        keychain tiny; padlock tiny; hook; nail tiny; screw tiny; clipboard; stapler; ruler yellow; eraser pink tiny;
        backpack strap
    """,
    "toy": """
        teddy bear brown; doll pink; balloon red sky >balloon; toy car red >car; rubber duck yellow tiny;
        yo-yo tiny; puzzle; building blocks=building blocks; toy robot >robot; toy train >train; rocking horse brown;
        spinning top tiny; marble tiny >ball; kaleidoscope; jack-in-the-box; dice=dice white tiny;
        chess board/chessboard;
        chess piece; playing card white tiny; piggy bank pink; snow globe; music box; pinwheel; action figure; plush toy
    """,
    "light": """
        lamp/light yellow >lamp @indoor; candle ivory tiny >candle @indoor; lantern yellow tiny >lantern;
        torch orange >candle;
        chandelier gold >lamp; desk lamp >lamp; floor lamp >lamp; fairy lights=fairy lights yellow >lantern;
        paper lantern red >lantern; oil lamp gold >lantern; spotlight white >lamp; candlestick gold >candle;
        lava lamp red >lamp; glow stick green tiny >candle
    """,
    "machine": """
        robot >robot; android >robot; cyborg >robot; mech grey large >robot;
        windmill turbine/wind turbine white large >tower;
        engine grey; gear grey small; clockwork; steam engine machine grey
    """,
    "place": """
        beach tan; forest green; city grey; street grey; desert tan; field green; meadow green; garden green;
        village tan; river blue; lake blue; ocean blue; sea blue; park green; kitchen white; room white;
        sky azure; space black; jungle green; farm green; harbor/harbour blue; market; bedroom; living room;
        office grey; classroom; bathroom white; countryside green; mountainside green; valley green; canyon orange;
        swamp olive; prairie tan; savanna/savannah tan; tundra white; coast blue; shore tan; seaside blue;
        downtown grey; alley grey; highway grey; airport grey; port blue; town tan; suburb green; backyard green;
        courtyard grey; rooftop grey; attic brown; basement grey; hallway white; studio white; library interior;
        cityscape grey; landscape green; seascape blue; horizon azure; underwater blue; orbit black; cosmos black;
        universe black; moonscape grey; battlefield brown; stage red; arena grey; bar/pub brown; skyline grey;
        waterfront blue; lawn green;
        snowfield white; wilderness green; woods green; grove green; orchard green; vineyard green;
        zoo green; safari tan; circus red; aquarium blue; campsite green; fairground green; picnic green
    """,
}


def plural(word: str) -> str:
    """Regular English plural of the last word of a name."""
    *head, last = word.split(" ")
    if last.endswith(("s", "x", "z", "ch", "sh")):
        last = last + "es"
    elif last.endswith("y") and len(last) > 1 and last[-2] not in "aeiou":
        last = last[:-1] + "ies"
    elif last.endswith("fe") and last not in ("giraffe", "safe", "cafe"):
        last = last[:-2] + "ves"
    else:
        last = last + "s"
    return " ".join([*head, last])


def _names(spec: str) -> list[tuple[str, str]]:
    out = []
    for part in spec.split("/"):
        name, _, pl = part.partition("=")
        name = name.strip().lower().replace("_", " ")
        out.append((name, pl.strip().lower() if pl else plural(name)))
    return out


def build() -> dict:
    objects = []
    for cat, text in ROWS.items():
        _desc, size, zone, colour, drawable, habitat = CATEGORIES[cat]
        for row in " ".join(text.split()).split(";"):
            row = row.strip()
            if not row:
                continue
            # names may contain spaces; attribute tokens follow the last name. Split on the first token
            # that is a known attribute.
            toks = row.split(" ")
            k = len(toks)
            for i, t in enumerate(toks):
                if i > 0 and (t in SIZE_CLASSES or t in ZONES or t in COLORS or t.startswith((">", "@"))):
                    k = i
                    break
            names = _names(" ".join(toks[:k]).replace(" /", "/").replace("/ ", "/"))
            e = {
                "name": names[0][0],
                "synonyms": [n for n, _ in names[1:]],
                "plurals": sorted({p for _, p in names}),
                "category": cat,
                "size": size,
                "zone": zone,
                "color": colour,
                "drawable": drawable,
                "habitat": habitat,
            }
            for t in toks[k:]:
                if t in SIZE_CLASSES:
                    e["size"] = t
                elif t in ZONES:
                    e["zone"] = t
                elif t in COLORS:
                    e["color"] = t
                elif t.startswith(">"):
                    e["drawable"] = t[1:]
                elif t.startswith("@"):
                    e["habitat"] = t[1:]
                else:
                    raise SystemExit(f"{cat}: row {row!r}: unknown token {t!r}")
            # plurals equal to a singular name (sheep, fish) are still plurals; drop only exact dupes
            e["plurals"] = [p for p in e["plurals"] if p]
            objects.append(e)
    table = {
        "about": "The one object table: what mmthink knows about things a request may name. "
        "Written by tools/build_object_table.py; edit that script, not this file.",
        "fields": {
            "name": "canonical singular name, lower case",
            "synonyms": "other singular names for the same thing",
            "plurals": "plural forms of the name and synonyms",
            "category": "one of categories",
            "size": "one of size_classes: how large one is drawn",
            "zone": "one of zones: where it usually is in a picture",
            "color": "its typical colour (a vocab.COLORS word)",
            "drawable": "the drawing used: a drawables.KINDS name or one of category_drawings",
            "habitat": "one of habitats: which backdrop it suggests",
        },
        "size_classes": SIZE_CLASSES,
        "zones": ZONES,
        "habitats": HABITATS,
        "categories": {
            c: {"about": d, "size": s, "zone": z, "color": col, "drawable": dr, "habitat": h}
            for c, (d, s, z, col, dr, h) in CATEGORIES.items()
        },
        "existing_drawables": sorted(EXISTING_DRAWABLES),
        "category_drawings": CATEGORY_DRAWINGS,
        "objects": objects,
    }
    problems = validate(table)
    if problems:
        raise SystemExit("object table not written:\n  " + "\n  ".join(problems))
    return table


def validate(table: dict) -> list[str]:
    """Every field valid, no word claimed twice (as name, synonym or plural of two entries)."""
    problems = []
    owner: dict[str, str] = {}
    drawables = set(table["existing_drawables"]) | set(table["category_drawings"])
    for e in table["objects"]:
        for key, allowed in (
            ("category", table["categories"]),
            ("size", table["size_classes"]),
            ("zone", table["zones"]),
            ("habitat", table["habitats"]),
            ("color", COLORS),
            ("drawable", drawables),
        ):
            if e[key] not in allowed:
                problems.append(f"{e['name']}: {key} {e[key]!r} is not one of the known values")
        singulars = [e["name"], *e["synonyms"]]
        for w in singulars:
            if w in owner and owner[w] != e["name"]:
                problems.append(f"{w!r} is claimed by {owner[w]!r} and {e['name']!r}")
            owner[w] = e["name"]
        for w in e["plurals"]:
            if w in owner and owner[w] != e["name"] and w not in singulars:
                problems.append(f"plural {w!r} of {e['name']!r} is also {owner[w]!r}")
            owner.setdefault(w, e["name"])
        if not e["name"] or e["name"] != e["name"].strip():
            problems.append(f"bad name {e['name']!r}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="exit 1 if the written table differs from a fresh build")
    args = ap.parse_args()
    text = json.dumps(build(), indent=1, ensure_ascii=False) + "\n"
    if args.check:
        same = OUT.exists() and OUT.read_text() == text
        print("up to date" if same else f"{OUT} is stale: run tools/build_object_table.py")
        return 0 if same else 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    n = len(json.loads(text)["objects"])
    print(f"wrote {OUT.relative_to(ROOT)}: {n} objects")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
